namespace Connet.Quic.Core.Streams;

/// <summary>Stream ID layout (RFC 9000 §2.1): bit 0 = initiator (1 = server), bit 1 = direction (1 = unidirectional).</summary>
internal static class StreamIds
{
    /// <summary>Stream IDs are varints, so each of the four types holds at most 2^60 streams (§4.6).</summary>
    public const ulong MaxStreamCount = 1UL << 60;

    public static bool IsServerInitiated(ulong streamId) => (streamId & 1) != 0;

    public static bool IsClientInitiated(ulong streamId) => (streamId & 1) == 0;

    public static bool IsBidirectional(ulong streamId) => (streamId & 2) == 0;

    public static bool IsUnidirectional(ulong streamId) => (streamId & 2) != 0;

    /// <summary>The stream's sequence number among streams of its type.</summary>
    public static ulong IndexOf(ulong streamId) => streamId >> 2;

    public static ulong Create(ulong index, bool serverInitiated, bool bidirectional) =>
        (index << 2) | (bidirectional ? 0UL : 2UL) | (serverInitiated ? 1UL : 0UL);
}

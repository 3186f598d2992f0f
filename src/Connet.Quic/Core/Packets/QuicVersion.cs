namespace Connet.Quic.Core.Packets;

/// <summary>QUIC version numbers (RFC 9000 §15).</summary>
internal static class QuicVersion
{
    public const uint Version1 = 1;

    /// <summary>The version field value that marks a Version Negotiation packet.</summary>
    public const uint Negotiation = 0;

    public static bool IsSupported(uint version) => version == Version1;

    /// <summary>Versions of the form 0x?a?a?a?a, reserved to exercise negotiation (RFC 9000 §15).</summary>
    public static bool IsReservedForNegotiation(uint version) => (version & 0x0F0F0F0F) == 0x0A0A0A0A;
}

namespace Connet.Quic;

/// <summary>Defaults and limits of the public API, System.Net.Quic's where it has one.</summary>
internal static class QuicDefaults
{
    public const int ListenBacklog = 512;
    public const int ServerMaxInboundBidirectionalStreams = 100;
    public const int ServerMaxInboundUnidirectionalStreams = 10;
    public const int ClientMaxInboundBidirectionalStreams = 0;
    public const int ClientMaxInboundUnidirectionalStreams = 0;
    public const int MaxStreamCount = ushort.MaxValue;
    public const long MaxErrorCodeValue = (1L << 62) - 1;
    public const long ConnectionReceiveWindow = 16 * 1024 * 1024;
    public const long StreamReceiveWindow = 1024 * 1024;
    public const int ConnectionIdLength = 8;
    public const int StatelessResetKeyLength = 32;
    public const int RawDatagramQueueLength = 256;

    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    public static readonly IReadOnlyList<QuicKeyExchangeGroup> KeyExchangeGroups =
        [QuicKeyExchangeGroup.X25519, QuicKeyExchangeGroup.Secp256r1, QuicKeyExchangeGroup.Secp384r1];
}

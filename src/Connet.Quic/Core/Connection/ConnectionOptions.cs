namespace Connet.Quic.Core.Connection;

/// <summary>Transport settings of one connection, as the protocol core sees them (already validated by the public API).</summary>
internal sealed class ConnectionOptions
{
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Send a PING when nothing was sent for this long; zero disables keep-alive.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.Zero;

    public int MaxInboundBidirectionalStreams { get; init; } = 100;

    public int MaxInboundUnidirectionalStreams { get; init; } = 10;

    /// <summary>Connection-level receive window (MAX_DATA) we advertise and keep replenishing.</summary>
    public long ConnectionReceiveWindow { get; init; } = 16 * 1024 * 1024;

    /// <summary>Per-stream receive window (MAX_STREAM_DATA) we advertise and keep replenishing.</summary>
    public long StreamReceiveWindow { get; init; } = 1024 * 1024;

    /// <summary>Bytes the application may queue on a stream beyond what flow control lets us send.</summary>
    public int StreamSendBufferSize { get; init; } = 1024 * 1024;

    /// <summary>Largest UDP payload we accept (max_udp_payload_size) and will probe up to.</summary>
    public int MaxUdpPayloadSize { get; init; } = 1452;

    /// <summary>Length of the connection IDs we issue.</summary>
    public int LocalConnectionIdLength { get; init; } = 8;

    /// <summary>How many connection IDs we let the peer keep active (active_connection_id_limit).</summary>
    public int ActiveConnectionIdLimit { get; init; } = 4;

    public int AckDelayExponent { get; init; } = 3;

    public TimeSpan MaxAckDelay { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>Key for deriving stateless reset tokens of the IDs we issue; null disables stateless reset.</summary>
    public byte[]? StatelessResetKey { get; init; }

    public RandomSource Random { get; init; } = RandomSource.Secure;

    /// <summary>Initiate a key update after this many packets with one key (well under the AEAD limits).</summary>
    public long KeyUpdateInterval { get; init; } = 1L << 22;
}

using System.Net;
using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Core.Tls;

namespace Connet.Quic.Core.Connection;

/// <summary>
/// One QUIC connection as a sans-IO state machine. Inputs: <see cref="HandleDatagram"/>, <see cref="HandleTimeout"/>
/// and the stream/close calls. Outputs, polled in this order after every input: <see cref="PollTransmit"/> until it
/// returns 0, <see cref="PollTimeout"/>, <see cref="PollEndpointEvent"/>, <see cref="PollEvent"/>.
/// Not thread-safe: the driver serialises all calls.
/// </summary>
internal sealed partial class Connection
{
    /// <summary>Creates a client connection; its first Initial is ready from <see cref="PollTransmit"/>.</summary>
    public static Connection CreateClient(ConnectionOptions options, TlsClientConfig tls, IPEndPoint remote, Instant now) =>
        throw new NotImplementedException();

    /// <summary>
    /// Creates a server connection for a client's first Initial. <paramref name="originalDestinationConnectionId"/> is the
    /// DCID of the client's first Initial; when the client was validated with Retry, <paramref name="retrySourceConnectionId"/>
    /// is the SCID our Retry carried and <paramref name="addressValidated"/> is true (no anti-amplification limit).
    /// The datagram itself is then fed with <see cref="HandleDatagram"/>.
    /// </summary>
    public static Connection CreateServer(
        ConnectionOptions options,
        TlsServerConfig tls,
        IPEndPoint remote,
        ConnectionId originalDestinationConnectionId,
        ConnectionId? retrySourceConnectionId,
        bool addressValidated,
        Instant now) => throw new NotImplementedException();

    public bool IsClient { get; }

    public bool IsHandshakeComplete { get; }

    /// <summary>True once closing or draining has finished; the driver then disposes it.</summary>
    public bool IsDrained { get; }

    /// <summary>Set once the connection starts closing, for whatever reason.</summary>
    public ConnectionCloseInfo? CloseInfo { get; }

    public IPEndPoint RemoteEndPoint => throw new NotImplementedException();

    public ReadOnlyMemory<byte> NegotiatedApplicationProtocol => throw new NotImplementedException();

    public X509Certificate2? RemoteCertificate => throw new NotImplementedException();

    public string? ServerName => throw new NotImplementedException();

    public TimeSpan SmoothedRtt => throw new NotImplementedException();

    /// <summary>Feeds one received UDP datagram (may hold coalesced packets; decrypted in place).</summary>
    public void HandleDatagram(Instant now, IPEndPoint remote, Span<byte> datagram) => throw new NotImplementedException();

    /// <summary>Lets timers that are due fire (loss detection, ACK delay, idle, close, pacing).</summary>
    public void HandleTimeout(Instant now) => throw new NotImplementedException();

    /// <summary>Writes the next datagram to send into <paramref name="buffer"/> (at least 1500 bytes); 0 when there is nothing to send now.</summary>
    public int PollTransmit(Instant now, Span<byte> buffer, out IPEndPoint destination) => throw new NotImplementedException();

    /// <summary>The next time <see cref="HandleTimeout"/> must be called, or <see cref="Instant.Never"/>.</summary>
    public Instant PollTimeout() => throw new NotImplementedException();

    public bool PollEndpointEvent(out EndpointEvent endpointEvent) => throw new NotImplementedException();

    public bool PollEvent(out ConnectionEvent connectionEvent) => throw new NotImplementedException();

    /// <summary>Opens a locally initiated stream; false when the peer's stream limit is reached (wait for StreamsAvailable).</summary>
    public bool TryOpenStream(bool bidirectional, out long streamId) => throw new NotImplementedException();

    /// <summary>Queues data (and optionally FIN) on a stream; returns the bytes accepted, 0 when the send buffer is full.</summary>
    public int WriteStream(long streamId, ReadOnlySpan<byte> data, bool fin) => throw new NotImplementedException();

    /// <summary>Reads received data in order; 0 with <paramref name="fin"/> false means none yet (wait for StreamReadable).</summary>
    public int ReadStream(long streamId, Span<byte> buffer, out bool fin) => throw new NotImplementedException();

    /// <summary>Abandons sending on a stream with RESET_STREAM.</summary>
    public void ResetStream(long streamId, ulong errorCode) => throw new NotImplementedException();

    /// <summary>Abandons receiving on a stream with STOP_SENDING.</summary>
    public void StopSending(long streamId, ulong errorCode) => throw new NotImplementedException();

    /// <summary>The application is done with a stream: its state may be freed once both directions have ended.</summary>
    public void ReleaseStream(long streamId) => throw new NotImplementedException();

    /// <summary>Closes with an application error code (CONNECTION_CLOSE 0x1d).</summary>
    public void Close(Instant now, ulong applicationErrorCode, string reason) => throw new NotImplementedException();
}

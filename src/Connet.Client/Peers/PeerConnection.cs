using System.Net;
using Connet.Core.Protocol;
using Connet.Quic;

namespace Connet.Client.Peers;

/// <summary>Who dialed a direct peer connection, seen from this side.</summary>
internal enum PeerConnectionDirection
{
    /// <summary>We dialed the remote peer's direct server.</summary>
    Outgoing,

    /// <summary>The remote peer dialed our direct server.</summary>
    Incoming,

    /// <summary>Our connection to a relay server; tunnels to and from many peers share it.</summary>
    Relay,
}

/// <summary>
/// A checked direct QUIC connection to a remote peer (connet-protocol.md §2.4 "Direct"): the remote side proved it
/// holds the pinned certificate and answered the connection check; or an authenticated connection to a relay
/// (<see cref="PeerConnectionDirection.Relay"/>). Sources open tunnels on it; destinations serve it.
/// </summary>
internal sealed class PeerConnection : IAsyncDisposable
{
    public PeerConnection(QuicConnection connection, PeerConnectionDirection direction, string remoteCertificateKey, WireVersion wireVersion, string? relayId = null)
    {
        if ((direction == PeerConnectionDirection.Relay) != (relayId is not null))
        {
            throw new ArgumentException("A relay connection, and only one, has a relay id.", nameof(relayId));
        }

        RelayId = relayId;
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentException.ThrowIfNullOrEmpty(remoteCertificateKey);
        Connection = connection;
        Direction = direction;
        RemoteCertificateKey = remoteCertificateKey;
        WireVersion = wireVersion;
    }

    public QuicConnection Connection { get; }

    public PeerConnectionDirection Direction { get; }

    /// <summary>The id control gave the relay, on relay connections.</summary>
    public string? RelayId { get; }

    /// <summary>
    /// The cert key (<see cref="Core.Certificates.CertificateKey"/>) of the certificate the remote peer authenticated
    /// with: its server certificate on outgoing connections, its client certificate on incoming ones.
    /// </summary>
    public string RemoteCertificateKey { get; }

    /// <summary>The framing chosen by the negotiated ALPN (connet-peer/0.2 → 4-byte, connet-peer/0.1 → 8-byte prefix).</summary>
    public WireVersion WireVersion { get; }

    public IPEndPoint RemoteEndPoint => Connection.RemoteEndPoint;

    /// <summary>The QUIC smoothed RTT; sources prefer the lowest.</summary>
    public TimeSpan SmoothedRtt => Connection.SmoothedRtt;

    public ValueTask DisposeAsync() => Connection.DisposeAsync();

    public override string ToString() => Direction == PeerConnectionDirection.Relay
        ? $"relay {RelayId} at {RemoteEndPoint}"
        : $"{Direction} peer {RemoteCertificateKey} at {RemoteEndPoint}";
}

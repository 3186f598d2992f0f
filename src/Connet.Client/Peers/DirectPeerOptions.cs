using Connet.Core.Protocol;
using Connet.Quic;

namespace Connet.Client.Peers;

/// <summary>QUIC settings of direct peer connections, as Go connet's pkg/quicc/conf.go sets them.</summary>
internal static class DirectPeerOptions
{
    /// <summary>Idle timeout of every connet QUIC connection.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Keepalive of every connet QUIC connection.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(10);

    /// <summary>quic-go's default handshake idle timeout, which Go connet keeps unless configured.</summary>
    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How long the connection check and a tunnel's Connect exchange may take once the handshake is done.</summary>
    public static readonly TimeSpan DefaultRequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Streams a peer may have open towards us at once. One stream per tunnelled TCP connection, so this bounds the
    /// concurrent TCP connections of one source over one direct connection; more wait for a free slot.
    /// </summary>
    public const int MaxInboundStreams = 1024;

    /// <summary>Applies the settings shared by the dialing and the accepting side.</summary>
    public static T Apply<T>(T options, TimeSpan handshakeTimeout)
        where T : QuicConnectionOptions
    {
        options.IdleTimeout = IdleTimeout;
        options.KeepAliveInterval = KeepAliveInterval;
        options.HandshakeTimeout = handshakeTimeout;
        options.MaxInboundBidirectionalStreams = MaxInboundStreams;
        options.MaxInboundUnidirectionalStreams = 0;
        options.DefaultCloseErrorCode = (long)ConnetErrorCode.DirectConnectionClosed;
        options.DefaultStreamErrorCode = (long)ConnetErrorCode.Unknown;
        return options;
    }
}

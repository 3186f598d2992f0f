namespace Connet.Quic.Core.Tls;

/// <summary>Creates the TLS 1.3 handshake engines the connection drives.</summary>
internal static class TlsSession
{
    /// <summary>A client session; call <see cref="ITlsSession.Start"/> to produce the ClientHello.</summary>
    /// <exception cref="ArgumentException">No ALPN protocol, group or cipher suite is configured.</exception>
    public static ITlsSession CreateClient(TlsClientConfig config, byte[] localTransportParameters)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(localTransportParameters);
        return new TlsClientSession(config, localTransportParameters);
    }

    /// <summary>A server session; it answers once the ClientHello arrives.</summary>
    public static ITlsSession CreateServer(TlsServerConfig config, byte[] localTransportParameters)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(localTransportParameters);
        return new TlsServerSession(config, localTransportParameters);
    }
}

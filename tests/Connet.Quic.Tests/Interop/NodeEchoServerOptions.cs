namespace Connet.Quic.Tests.Interop;

/// <summary>How to run tests/interop/echo-server.mjs.</summary>
internal sealed record NodeEchoServerOptions
{
    public string Alpn { get; init; } = NodeQuicPeer.DefaultAlpn;

    /// <summary>Require and verify a client certificate issued by the same test CA (mutual TLS).</summary>
    public bool VerifyPeer { get; init; }

    /// <summary>If set, the server writes an SSLKEYLOGFILE here: decrypt a failing handshake in Wireshark.</summary>
    public string? KeyLogFile { get; init; }

    /// <summary>Library debug logging on stderr (captured; shown in failure messages).</summary>
    public bool Verbose { get; init; }

    /// <summary>How long to wait for the {"listening": port} line; node + the native module load in well under a second.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

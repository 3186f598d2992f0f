namespace Connet.Quic.Tests.Interop;

/// <summary>How to run tests/interop/echo-client.mjs.</summary>
internal sealed record NodeEchoClientOptions
{
    public const int OneMebibyte = 1 << 20;

    public string Alpn { get; init; } = NodeQuicPeer.DefaultAlpn;

    /// <summary>SNI and the name checked against the server certificate.</summary>
    public string ServerName { get; init; } = "localhost";

    /// <summary>Bytes to send and expect back; the payload is <see cref="InteropPayload"/> with <see cref="Seed"/>.</summary>
    public int Bytes { get; init; } = OneMebibyte;

    public uint Seed { get; init; } = 1;

    /// <summary>Present this leaf as the client certificate (for servers that verify the peer).</summary>
    public InteropCertificates? ClientCertificate { get; init; }

    /// <summary>If set, the client writes an SSLKEYLOGFILE here.</summary>
    public string? KeyLogFile { get; init; }

    public bool Verbose { get; init; }

    /// <summary>
    /// Whole-run limit enforced by the script itself (it exits non-zero); the harness kills it a
    /// little later if it hangs anyway. The JS stream layer echoes at roughly 10 Mbit/s, so 1 MiB
    /// takes about a second; the margin is for a loaded machine.
    /// </summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);
}

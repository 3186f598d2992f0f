using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Core;
using Connet.Quic.Core.Tls;

namespace Connet.Quic.Tests.Tls;

/// <summary>
/// Two TLS sessions wired back to back in memory: each side's outgoing handshake bytes go to the other side's
/// HandleCryptoData at the same level, either a whole flight per call or in small chunks.
/// </summary>
internal sealed class TlsPair : IDisposable
{
    public static readonly byte[] ClientParameters = [1, 2, 3, 4];
    public static readonly byte[] ServerParameters = [9, 8, 7];

    public TlsPair(TlsClientConfig clientConfig, TlsServerConfig serverConfig)
    {
        Client = TlsSession.CreateClient(clientConfig, ClientParameters);
        Server = TlsSession.CreateServer(serverConfig, ServerParameters);
    }

    public ITlsSession Client { get; }

    public ITlsSession Server { get; }

    public List<TlsSecrets> ClientSecrets { get; } = [];

    public List<TlsSecrets> ServerSecrets { get; } = [];

    /// <summary>Every handshake message each side sent, in order, with its level.</summary>
    public List<(EncryptionLevel Level, byte[] Message)> ClientSent { get; } = [];

    public List<(EncryptionLevel Level, byte[] Message)> ServerSent { get; } = [];

    /// <summary>Bytes per HandleCryptoData call; int.MaxValue delivers each level's flight in one call.</summary>
    public int ChunkSize { get; set; } = int.MaxValue;

    /// <summary>Lets a test rewrite a message in flight (fromClient, level, message) → delivered bytes.</summary>
    public Func<bool, EncryptionLevel, byte[], byte[]>? Tamper { get; set; }

    /// <summary>"client" or "server": the side whose HandleCryptoData threw.</summary>
    public string? FailedSide { get; private set; }

    public static TlsClientConfig ClientConfig(
        string targetHost = "server.example",
        X509ChainPolicy? policy = null,
        RemoteCertificateValidationCallback? callback = null,
        IReadOnlyList<TlsNamedGroup>? groups = null,
        Core.Crypto.CipherSuite[]? suites = null,
        string[]? alpn = null,
        X509Certificate2? clientCertificate = null)
    {
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            ApplicationProtocols = (alpn ?? ["connet"]).Select(p => new SslApplicationProtocol(p)).ToList(),
            CertificateChainPolicy = policy ?? TestCertificates.Pin(TestCertificates.ServerP256, TestCertificates.ServerP384, TestCertificates.ServerRsa),
            RemoteCertificateValidationCallback = callback,
        };
        if (clientCertificate is not null)
        {
            authentication.ClientCertificates = [clientCertificate];
        }

        var config = new TlsClientConfig { Authentication = authentication };
        return new TlsClientConfig
        {
            Authentication = authentication,
            Groups = groups ?? config.Groups,
            CipherSuites = suites ?? config.CipherSuites,
        };
    }

    public static TlsServerConfig ServerConfig(
        X509Certificate2? certificate = null,
        IReadOnlyList<TlsNamedGroup>? groups = null,
        Core.Crypto.CipherSuite[]? suites = null,
        string[]? alpn = null,
        bool requireClientCertificate = false,
        X509ChainPolicy? clientPolicy = null,
        RemoteCertificateValidationCallback? callback = null)
    {
        var authentication = new SslServerAuthenticationOptions
        {
            ServerCertificate = certificate ?? TestCertificates.ServerP256,
            ApplicationProtocols = (alpn ?? ["connet"]).Select(p => new SslApplicationProtocol(p)).ToList(),
            ClientCertificateRequired = requireClientCertificate,
            CertificateChainPolicy = clientPolicy,
            RemoteCertificateValidationCallback = callback,
        };
        var config = new TlsServerConfig { Authentication = authentication };
        return new TlsServerConfig
        {
            Authentication = authentication,
            Groups = groups ?? config.Groups,
            CipherSuites = suites ?? config.CipherSuites,
        };
    }

    /// <summary>Starts the client and shuttles bytes until neither side has anything more to send.</summary>
    public void Drive()
    {
        Client.Start();
        bool progress = true;
        for (int round = 0; progress && round < 20; round++)
        {
            progress = Move(Client, Server, fromClient: true) | Move(Server, Client, fromClient: false);
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
    }

    private bool Move(ITlsSession from, ITlsSession to, bool fromClient)
    {
        List<TlsSecrets> secrets = fromClient ? ClientSecrets : ServerSecrets;
        while (from.TryTakeSecrets(out TlsSecrets s))
        {
            secrets.Add(s);
        }

        var pending = new List<(EncryptionLevel Level, byte[] Data)>();
        while (from.TryTakeOutgoing(out EncryptionLevel level, out byte[] data))
        {
            (fromClient ? ClientSent : ServerSent).Add((level, data));
            byte[] delivered = Tamper?.Invoke(fromClient, level, data) ?? data;
            if (pending.Count > 0 && pending[^1].Level == level)
            {
                pending[^1] = (level, [.. pending[^1].Data, .. delivered]);
            }
            else
            {
                pending.Add((level, delivered));
            }
        }

        foreach ((EncryptionLevel level, byte[] data) in pending)
        {
            for (int offset = 0; offset < data.Length; offset += ChunkSize)
            {
                int length = Math.Min(ChunkSize, data.Length - offset);
                try
                {
                    to.HandleCryptoData(level, data.AsSpan(offset, length));
                }
                catch (QuicProtocolException)
                {
                    FailedSide = fromClient ? "server" : "client";
                    throw;
                }
            }
        }

        while (from.TryTakeSecrets(out TlsSecrets s))
        {
            secrets.Add(s);
        }

        return pending.Count > 0;
    }
}

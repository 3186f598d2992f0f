using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.Control;
using Connet.Quic;
using Connet.Server.Control;
using Google.Protobuf;

namespace Connet.Server.Tests;

/// <summary>Certificates, a running server and a minimal protocol client for the control server tests.</summary>
internal static class ControlTestKit
{
    /// <summary>Guards against hangs only; nothing asserts how long anything took.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(20);

    public const string GoodToken = "good-token";

    public static readonly X509Certificate2 ServerCertificate = CreateSelfSigned("control.connet.test");

    public static X509Certificate2 CreateSelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    public static ControlServerOptions Options(params ControlClientToken[] tokens) => new()
    {
        ClientIngresses = [new ControlClientIngress { Address = new IPEndPoint(IPAddress.Loopback, 0), Certificate = ServerCertificate }],
        Tokens = tokens.Length > 0 ? [.. tokens] : [new ControlClientToken { Token = GoodToken }],
    };

    public static async Task<ControlServer> StartAsync(ControlServerOptions options)
    {
        var server = new ControlServer(options);
        await server.StartAsync(CancellationToken.None).WaitAsync(Guard);
        return server;
    }

    public static Peer PeerWithDirect(int port) => new()
    {
        Directs = { new AddrPort { Addr = new Addr { V4 = ByteString.CopyFrom(IPAddress.Loopback.GetAddressBytes()) }, Port = (uint)port } },
    };
}

/// <summary>Speaks the client side of connet-control/0.4 with <see cref="MessageFraming"/> over real QUIC streams.</summary>
internal sealed class ControlTestClient : IAsyncDisposable
{
    private const WireVersion Version = WireVersion.Current;

    private ControlTestClient(QuicConnection connection, WireVersion wireVersion)
    {
        Connection = connection;
        WireVersion = wireVersion;
    }

    public QuicConnection Connection { get; }

    /// <summary>The framing of this connection: Current unless it offered only the legacy ALPN.</summary>
    public WireVersion WireVersion { get; }

    public static async Task<ControlTestClient> ConnectAsync(IPEndPoint server, TimeSpan? handshakeTimeout = null, bool legacyOnly = false)
    {
        var expected = ControlTestKit.ServerCertificate.GetCertHashString(HashAlgorithmName.SHA256);
        var connection = await QuicConnection.ConnectAsync(new QuicClientConnectionOptions
        {
            RemoteEndPoint = server,
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ClientAuthenticationOptions = new SslClientAuthenticationOptions
            {
                TargetHost = "control.connet.test",
                ApplicationProtocols = legacyOnly
                    ? [new SslApplicationProtocol(ConnetAlpns.ClientToControlLegacy)]
                    : ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.ClientToControl),
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && certificate.GetCertHashString(HashAlgorithmName.SHA256) == expected,
            },
            DefaultCloseErrorCode = 0,
            DefaultStreamErrorCode = 0,
            HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10),
            IdleTimeout = TimeSpan.FromSeconds(20),
            MaxInboundBidirectionalStreams = 0,
        }).AsTask().WaitAsync(ControlTestKit.Guard);
        return new ControlTestClient(connection, legacyOnly ? WireVersion.Legacy : WireVersion.Current);
    }

    /// <summary>Connects and authenticates with <paramref name="token"/>; returns the client and the server's answer.</summary>
    public static async Task<(ControlTestClient Client, AuthenticateResp Response)> ConnectAndAuthenticateAsync(
        IPEndPoint server, string token = ControlTestKit.GoodToken, ByteString? reconnectToken = null)
    {
        var client = await ConnectAsync(server);
        var response = await client.AuthenticateAsync(token, reconnectToken);
        return (client, response);
    }

    public async Task<AuthenticateResp> AuthenticateAsync(string token, ByteString? reconnectToken = null)
    {
        await using var stream = await Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional).AsTask().WaitAsync(ControlTestKit.Guard);
        await MessageFraming.WriteAsync(stream, new AuthenticateReq
        {
            Token = token,
            ReconnectToken = reconnectToken ?? ByteString.Empty,
            BuildVersion = "test",
            Metadata = "test-client",
        }, WireVersion);
        stream.CompleteWrites();
        var response = await MessageFraming.ReadAsync<AuthenticateResp>(stream, WireVersion).AsTask().WaitAsync(ControlTestKit.Guard);
        return response ?? throw new InvalidOperationException("The server ended the authentication stream without answering.");
    }

    /// <summary>Opens a stream, sends the first request and returns the stream for further reads and writes.</summary>
    public async Task<QuicStream> OpenRequestStreamAsync(Request request)
    {
        var stream = await Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional).AsTask().WaitAsync(ControlTestKit.Guard);
        await MessageFraming.WriteAsync(stream, request, WireVersion);
        return stream;
    }

    public Task<QuicStream> AnnounceAsync(string endpoint, Role role, Peer peer) =>
        OpenRequestStreamAsync(AnnounceRequest(endpoint, role, peer));

    public static Request AnnounceRequest(string endpoint, Role role, Peer peer) => new()
    {
        Announce = new Request.Types.Announce { Endpoint = new Endpoint { Name = endpoint }, Role = role, Peer = peer },
    };

    public static async Task<Response> ReadResponseAsync(QuicStream stream, WireVersion version = Version)
    {
        var response = await MessageFraming.ReadAsync<Response>(stream, version).AsTask().WaitAsync(ControlTestKit.Guard);
        return response ?? throw new InvalidOperationException("The server ended the stream without a response.");
    }

    /// <summary>Reads announce updates until one satisfies <paramref name="wanted"/> (bounded by count and by the guard).</summary>
    public static async Task<Response.Types.Announce> ReadAnnounceUntilAsync(QuicStream stream, Func<Response.Types.Announce, bool> wanted)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var response = await ReadResponseAsync(stream);
            Assert.Null(response.Error);
            Assert.NotNull(response.Announce);
            if (wanted(response.Announce))
            {
                return response.Announce;
            }
        }

        throw new InvalidOperationException("No announce update matched within 20 updates.");
    }

    /// <summary>Waits for the server to close the connection and returns the application error code it used.</summary>
    public async Task<long?> WaitForCloseAsync()
    {
        try
        {
            await Connection.AcceptInboundStreamAsync().AsTask().WaitAsync(ControlTestKit.Guard);
        }
        catch (QuicException closed)
        {
            return closed.ApplicationErrorCode;
        }

        throw new InvalidOperationException("The server opened a stream instead of closing.");
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}

using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using Connet.Core.Crypto;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.ControlRelays;
using Connet.Quic;
using Connet.Server.Control;
using Google.Protobuf;

namespace Connet.Server.Tests;

/// <summary>A raw relay speaking connet-control-relays to the control server, built from Connet.Quic and Connet.Core.</summary>
internal sealed class ControlTestRelay : IAsyncDisposable
{
    public const string GoodRelayToken = "relay-token";

    public static readonly byte[] RelayCertificateDer = ControlTestKit.CreateSelfSigned("relay.connet.test").RawData;

    private ControlTestRelay(QuicConnection connection, WireVersion wireVersion)
    {
        Connection = connection;
        WireVersion = wireVersion;
        (BoxPrivateKey, BoxPublicKey) = NaClBox.GenerateKeyPair();
    }

    public QuicConnection Connection { get; }

    public WireVersion WireVersion { get; }

    public byte[] BoxPrivateKey { get; }

    public byte[] BoxPublicKey { get; }

    /// <summary>Options with a client ingress, a relay ingress on loopback and the given relay tokens (or <see cref="GoodRelayToken"/>).</summary>
    public static ControlServerOptions Options(params ControlRelayToken[] relayTokens)
    {
        var options = ControlTestKit.Options();
        options.RelayIngresses = [new ControlRelayIngress { Address = new IPEndPoint(IPAddress.Loopback, 0), Certificate = ControlTestKit.ServerCertificate }];
        options.RelayTokens = relayTokens.Length > 0 ? [.. relayTokens] : [new ControlRelayToken { Token = GoodRelayToken }];
        return options;
    }

    public static async Task<ControlTestRelay> ConnectAsync(IPEndPoint server, TimeSpan? handshakeTimeout = null, bool legacyOnly = false)
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
                    ? [new SslApplicationProtocol(ConnetAlpns.RelayToControlLegacy)]
                    : ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.RelayToControl),
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && certificate.GetCertHashString(HashAlgorithmName.SHA256) == expected,
            },
            DefaultCloseErrorCode = 0,
            DefaultStreamErrorCode = 0,
            HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10),
            IdleTimeout = TimeSpan.FromSeconds(20),
            MaxInboundBidirectionalStreams = 0,
        }).AsTask().WaitAsync(ControlTestKit.Guard);
        return new ControlTestRelay(connection, legacyOnly ? WireVersion.Legacy : WireVersion.Current);
    }

    /// <summary>A request the server accepts: this relay's box key, a parsable certificate, one address.</summary>
    public AuthenticateReq ValidRequest(string token = GoodRelayToken, ByteString? reconnectToken = null, int port = 19191) => new()
    {
        Token = token,
        Addresses = { new HostPort { Host = "relay.example", Port = (uint)port } },
        ReconnectToken = reconnectToken ?? ByteString.Empty,
        BuildVersion = "test",
        Metadata = "test-relay",
        ServerCertificate = ByteString.CopyFrom(RelayCertificateDer),
        RelayAuthenticationKey = ByteString.CopyFrom(BoxPublicKey),
    };

    /// <summary>Connects and authenticates with a valid request.</summary>
    public static async Task<(ControlTestRelay Relay, AuthenticateResp Response)> ConnectAndAuthenticateAsync(
        IPEndPoint server, string token = GoodRelayToken, ByteString? reconnectToken = null, int port = 19191)
    {
        var relay = await ConnectAsync(server);
        var response = await relay.AuthenticateAsync(relay.ValidRequest(token, reconnectToken, port));
        return (relay, response);
    }

    public async Task<AuthenticateResp> AuthenticateAsync(AuthenticateReq request)
    {
        await using var stream = await Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional).AsTask().WaitAsync(ControlTestKit.Guard);
        await MessageFraming.WriteAsync(stream, request, WireVersion);
        stream.CompleteWrites();
        var response = await MessageFraming.ReadAsync<AuthenticateResp>(stream, WireVersion).AsTask().WaitAsync(ControlTestKit.Guard);
        return response ?? throw new InvalidOperationException("The server ended the authentication stream without answering.");
    }

    /// <summary>The key this relay would precompute from the server's answer.</summary>
    public byte[] SharedKey(AuthenticateResp response) => NaClBox.Precompute(response.ControlAuthenticationKey.Span, BoxPrivateKey);

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

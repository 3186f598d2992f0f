using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using Connet.Core.Certificates;
using Connet.Core.Crypto;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.ControlRelays;
using Connet.Quic;
using Google.Protobuf;

namespace Connet.Relay.Tests;

/// <summary>Shared certificates, options and guards of the relay tests.</summary>
internal static class RelayTestKit
{
    /// <summary>Guards against hangs only; nothing asserts how long anything took.</summary>
    public static readonly TimeSpan Guard = TimeSpan.FromSeconds(20);

    public const string RelayToken = "relay-token";
    public const string ControlName = "control.connet.test";

    public static readonly X509Certificate2 ControlCertificate = CreateSelfSigned(ControlName);

    public static X509Certificate2 CreateSelfSigned(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    public static RelayServerOptions Options(FakeControl control, string token = RelayToken, string? storeDirectory = null) => new()
    {
        Token = token,
        Metadata = "test-relay",
        Ingresses = [new RelayIngress { Address = new IPEndPoint(IPAddress.Loopback, 0) }],
        ControlAddress = $"127.0.0.1:{control.EndPoint.Port}",
        ControlServerName = ControlName,
        ControlCertificateAuthorities = [ControlCertificate],
        StoreDirectory = storeDirectory,
    };

    /// <summary>Starts a relay against <paramref name="control"/> and waits until control has seen it authenticate.</summary>
    public static async Task<RelayServer> StartRelayAsync(FakeControl control, RelayServerOptions? options = null)
    {
        var relay = new RelayServer(options ?? Options(control));
        await relay.StartAsync(CancellationToken.None).WaitAsync(Guard);
        return relay;
    }

    public static async Task<byte[]> ReadToEndAsync(Stream stream, int expected)
    {
        var buffer = new byte[expected + 1];
        int total = 0;
        while (true)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(total)).AsTask().WaitAsync(Guard);
            if (read == 0)
            {
                return buffer[..total];
            }

            total += read;
            if (total > expected)
            {
                throw new InvalidOperationException($"more than the {expected} expected bytes arrived");
            }
        }
    }
}

/// <summary>
/// A control server's relay ingress, reduced to what the relay depends on: it answers the relay's AuthenticateReq
/// with a control ID, a reconnect token and its box key (or a refusal), keeps the connection open, and hands the test
/// the shared key so it can seal ClientAuthentication blobs as the real control server does.
/// </summary>
internal sealed class FakeControl : IAsyncDisposable
{
    private readonly QuicEndpoint _endpoint;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentBag<QuicConnection> _connections = [];
    private readonly Channel<AuthenticateReq> _requests = Channel.CreateUnbounded<AuthenticateReq>();
    private readonly (byte[] PrivateKey, byte[] PublicKey) _boxKeys = NaClBox.GenerateKeyPair();
    private readonly Task _accepting;

    /// <param name="legacyOnly">Accept only <c>connet-relay/0.3</c>, the legacy relay→control ALPN with 8-byte framing (Go connet ≤ 0.15.3).</param>
    public FakeControl(bool legacyOnly = false)
    {
        _endpoint = QuicEndpoint.Bind(new QuicEndpointOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = legacyOnly
                ? [new SslApplicationProtocol(ConnetAlpns.RelayToControlLegacy)]
                : ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.RelayToControl),
            ServerConnectionOptions = new QuicServerConnectionOptions
            {
                ServerAuthenticationOptions = new SslServerAuthenticationOptions { ServerCertificate = RelayTestKit.ControlCertificate },
                IdleTimeout = TimeSpan.FromSeconds(20),
                MaxInboundBidirectionalStreams = 4,
                DefaultCloseErrorCode = 0,
                DefaultStreamErrorCode = 0,
            },
        });
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint => _endpoint.LocalEndPoint;

    public string ControlId { get; set; } = "control-1";

    public string ExpectedToken { get; set; } = RelayTestKit.RelayToken;

    public ByteString ReconnectToken { get; } = ByteString.CopyFrom(RandomNumberGenerator.GetBytes(16));

    /// <summary>The shared box key of the last relay that authenticated.</summary>
    public byte[]? SharedKey { get; private set; }

    public WireVersion? LastWireVersion { get; private set; }

    /// <summary>Where the last authenticated relay's connection came from (the relay's first ingress).</summary>
    public IPEndPoint? LastRelayAddress { get; private set; }

    public async Task<AuthenticateReq> NextRequestAsync() => await _requests.Reader.ReadAsync().AsTask().WaitAsync(RelayTestKit.Guard);

    /// <summary>What control puts in <c>control.Relay.authentication</c> for a client of <paramref name="endpoint"/>.</summary>
    public byte[] Seal(string endpoint, Role role, X509Certificate2 clientCertificate, byte[]? sharedKey = null) =>
        NaClBox.Seal(sharedKey ?? SharedKey ?? throw new InvalidOperationException("No relay has authenticated."), new ClientAuthentication
        {
            Endpoint = new Endpoint { Name = endpoint },
            Role = role,
            CertificateKey = CertificateKey.Compute(clientCertificate.RawData),
        }.ToByteArray());

    /// <summary>Closes every relay connection (the relay then reconnects).</summary>
    public async Task DropRelaysAsync()
    {
        while (_connections.TryTake(out var connection))
        {
            await connection.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await DropRelaysAsync();
        await _endpoint.DisposeAsync();
        await _accepting.WaitAsync(RelayTestKit.Guard);
        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            QuicConnection connection;
            try
            {
                connection = await _endpoint.AcceptConnectionAsync(_stopping.Token);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (QuicException exception) when (exception.QuicError == QuicError.OperationAborted)
            {
                return;
            }
            catch (QuicException)
            {
                continue;
            }

            _connections.Add(connection);
            _ = ServeAsync(connection);
        }
    }

    private async Task ServeAsync(QuicConnection connection)
    {
        try
        {
            var version = ConnetAlpns.GetWireVersion(ConnetConnectionKind.RelayToControl, connection.NegotiatedApplicationProtocol);
            LastWireVersion = version;
            await using var stream = await connection.AcceptInboundStreamAsync(_stopping.Token);
            var request = await MessageFraming.ReadAsync<AuthenticateReq>(stream, version, _stopping.Token)
                ?? throw new InvalidOperationException("no AuthenticateReq");
            AuthenticateResp response;
            if (request.Token != ExpectedToken)
            {
                response = new AuthenticateResp { Error = ConnetError.ToWireError(ConnetErrorCode.AuthenticationFailed, "unknown relay token") };
            }
            else
            {
                SharedKey = NaClBox.Precompute(request.RelayAuthenticationKey.Span, _boxKeys.PrivateKey);
                LastRelayAddress = connection.RemoteEndPoint;
                response = new AuthenticateResp
                {
                    ControlId = ControlId,
                    ReconnectToken = ReconnectToken,
                    ControlAuthenticationKey = ByteString.CopyFrom(_boxKeys.PublicKey),
                };
            }

            await MessageFraming.WriteAsync(stream, response, version, _stopping.Token);
            stream.CompleteWrites();
            await _requests.Writer.WriteAsync(request);
        }
        catch (Exception exception) when (exception is QuicException or OperationCanceledException or ConnetProtocolException or ObjectDisposedException)
        {
            // The relay went away or the fake is stopping.
        }
    }
}

/// <summary>A raw client of the relay: its own socket and endpoint client certificate, speaking relay.proto and peer.proto.</summary>
internal sealed class FakeRelayClient : IAsyncDisposable
{
    private readonly QuicEndpoint _endpoint;

    private FakeRelayClient(QuicEndpoint endpoint, QuicConnection connection, PeerCertificates certificates, WireVersion version)
    {
        _endpoint = endpoint;
        Connection = connection;
        Certificates = certificates;
        WireVersion = version;
    }

    public QuicConnection Connection { get; }

    public PeerCertificates Certificates { get; }

    public WireVersion WireVersion { get; }

    /// <summary>Dials the relay's first ingress, pinning the certificate the relay sent control.</summary>
    public static async Task<FakeRelayClient> ConnectAsync(RelayServer relay, bool legacy = false, TimeSpan? handshakeTimeout = null)
    {
        var certificates = PeerCertificates.Create();
        var relayCertificate = relay.ServerCertificate ?? throw new InvalidOperationException("The relay is not started.");
        var endpoint = QuicEndpoint.Bind(new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        try
        {
            var connection = await endpoint.ConnectAsync(new QuicClientConnectionOptions
            {
                RemoteEndPoint = new IPEndPoint(IPAddress.Loopback, relay.GetStatus().IngressEndPoints[0].Port),
                ClientAuthenticationOptions = new SslClientAuthenticationOptions
                {
                    TargetHost = "relay.reserve.relay.invalid",
                    ApplicationProtocols = legacy
                        ? [new SslApplicationProtocol(ConnetAlpns.ClientToRelayLegacy)]
                        : ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.ClientToRelay),
                    ClientCertificates = [certificates.Client],
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                        certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(relayCertificate.RawData),
                },
                IdleTimeout = TimeSpan.FromSeconds(20),
                HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10),
                MaxInboundBidirectionalStreams = 64,
                DefaultCloseErrorCode = 0,
                DefaultStreamErrorCode = 0,
            }).AsTask().WaitAsync(RelayTestKit.Guard);
            return new FakeRelayClient(endpoint, connection, certificates, legacy ? WireVersion.Legacy : WireVersion.Current);
        }
        catch
        {
            await endpoint.DisposeAsync();
            certificates.Dispose();
            throw;
        }
    }

    /// <summary>Connects and authenticates as <paramref name="role"/> of <paramref name="endpointName"/>, expecting success.</summary>
    public static async Task<FakeRelayClient> AuthenticatedAsync(RelayServer relay, FakeControl control, string endpointName, Role role, bool legacy = false)
    {
        var client = await ConnectAsync(relay, legacy);
        var response = await client.AuthenticateAsync(control.Seal(endpointName, role, client.Certificates.Client));
        Assert.Null(response.Error);
        return client;
    }

    public async Task<Connet.Core.Protocol.Wire.Relay.AuthenticateResp> AuthenticateAsync(byte[] authentication)
    {
        await using var stream = await Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional).AsTask().WaitAsync(RelayTestKit.Guard);
        await MessageFraming.WriteAsync(stream, new Connet.Core.Protocol.Wire.Relay.AuthenticateReq
        {
            Authentication = ByteString.CopyFrom(authentication),
            Metadata = "fake-client",
            BuildVersion = "test",
        }, WireVersion);
        stream.CompleteWrites();
        return await MessageFraming.ReadAsync<Connet.Core.Protocol.Wire.Relay.AuthenticateResp>(stream, WireVersion).AsTask().WaitAsync(RelayTestKit.Guard)
            ?? throw new InvalidOperationException("The relay ended the authentication stream without answering.");
    }

    /// <summary>As a source: opens a stream, sends Connect and returns the stream with the relay's response.</summary>
    public async Task<(QuicStream Stream, Connet.Core.Protocol.Wire.Peer.Response Response)> ConnectAsync(Connet.Core.Protocol.Wire.Peer.Request? request = null)
    {
        var stream = await Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional).AsTask().WaitAsync(RelayTestKit.Guard);
        await MessageFraming.WriteAsync(stream, request ?? new Connet.Core.Protocol.Wire.Peer.Request { Connect = new() }, WireVersion);
        var response = await MessageFraming.ReadAsync<Connet.Core.Protocol.Wire.Peer.Response>(stream, WireVersion).AsTask().WaitAsync(RelayTestKit.Guard)
            ?? throw new InvalidOperationException("The relay ended the stream without answering.");
        return (stream, response);
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await _endpoint.DisposeAsync();
        Certificates.Dispose();
    }
}

/// <summary>
/// Serves a destination client's streams: reads the relay's Request and answers with <see cref="Answer"/>; on a
/// connect, echoes every byte back until the relay's side ends. Records what it received.
/// </summary>
internal sealed class EchoDestination : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _serving;

    public EchoDestination(FakeRelayClient client)
    {
        Client = client;
        _serving = ServeAsync();
    }

    public FakeRelayClient Client { get; }

    /// <summary>What to answer each Request with; default a plain connect.</summary>
    public Func<Connet.Core.Protocol.Wire.Peer.Request, Connet.Core.Protocol.Wire.Peer.Response> Answer { get; set; } =
        _ => new Connet.Core.Protocol.Wire.Peer.Response { Connect = new() };

    /// <summary>When set, each stream is aborted with this code instead of being answered.</summary>
    public long? AbortWith { get; set; }

    public ConcurrentQueue<Connet.Core.Protocol.Wire.Peer.Request> Requests { get; } = new();

    /// <summary>Completes when the first connected stream starts echoing.</summary>
    public TaskCompletionSource Echoing { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await Client.DisposeAsync();
        try
        {
            await _serving.WaitAsync(RelayTestKit.Guard);
        }
        catch (Exception exception) when (exception is QuicException or OperationCanceledException or ObjectDisposedException)
        {
            // Ended with the connection.
        }

        _stopping.Dispose();
    }

    private async Task ServeAsync()
    {
        var streams = new List<Task>();
        try
        {
            for (int accepted = 0; accepted < 1000; accepted++)
            {
                var stream = await Client.Connection.AcceptInboundStreamAsync(_stopping.Token);
                streams.Add(ServeStreamAsync(stream));
            }
        }
        catch (Exception exception) when (exception is QuicException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection or the test ended.
        }

        await Task.WhenAll(streams);
    }

    private async Task ServeStreamAsync(QuicStream stream)
    {
        await using var owned = stream;
        try
        {
            if (AbortWith is long code)
            {
                stream.Abort(QuicAbortDirection.Both, code);
                return;
            }

            var request = await MessageFraming.ReadAsync<Connet.Core.Protocol.Wire.Peer.Request>(stream, Client.WireVersion, _stopping.Token);
            if (request is null)
            {
                return;
            }

            Requests.Enqueue(request);
            var response = Answer(request);
            await MessageFraming.WriteAsync(stream, response, Client.WireVersion, _stopping.Token);
            if (response.Connect is null)
            {
                stream.CompleteWrites();
                return;
            }

            Echoing.TrySetResult();
            var buffer = new byte[64 * 1024];
            while (true)
            {
                int read = await stream.ReadAsync(buffer, _stopping.Token);
                if (read == 0)
                {
                    stream.CompleteWrites();
                    return;
                }

                await stream.WriteAsync(buffer.AsMemory(0, read), _stopping.Token);
            }
        }
        catch (Exception exception) when (exception is QuicException or OperationCanceledException or ConnetProtocolException or ObjectDisposedException or IOException)
        {
            // The relay or the test ended the stream.
        }
    }
}

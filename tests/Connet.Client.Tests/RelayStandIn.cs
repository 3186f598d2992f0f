using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using Connet.Core.Certificates;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire.Relay;
using Connet.Quic;
using Google.Protobuf;

namespace Connet.Client.Tests;

/// <summary>
/// A stand-in relay for tests: a QUIC server speaking connet-relay/0.3 that answers <c>relay.AuthenticateReq</c>
/// (the authentication bytes say which side a client is: "destination", "source", or "refuse" to be refused), then
/// forwards every stream a source opens to a new stream it opens on the destination's connection, copying bytes
/// both ways untouched as the real relay does after the Request/Response exchange. It records the first bytes the
/// source sent on each stream so tests can check what a relay gets to see.
/// </summary>
internal sealed class RelayStandIn : IAsyncDisposable
{
    public const int CapturedBytes = 1024 * 1024;

    private readonly QuicEndpoint _endpoint;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<Task> _tasks = [];
    private readonly TaskCompletionSource<QuicConnection> _destination = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _accepting;

    public RelayStandIn()
    {
        Certificates = PeerCertificates.Create();
        var options = new QuicEndpointOptions
        {
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.ClientToRelay),
            ServerConnectionOptions = new QuicServerConnectionOptions
            {
                ServerAuthenticationOptions = new SslServerAuthenticationOptions
                {
                    ServerCertificate = Certificates.Server,
                    ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.ClientToRelay),
                    ClientCertificateRequired = true,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
                },
                MaxInboundBidirectionalStreams = 1024,
                IdleTimeout = TimeSpan.FromSeconds(20),
                DefaultCloseErrorCode = 0,
                DefaultStreamErrorCode = 0,
            },
        };
        _endpoint = QuicEndpoint.Bind(options);
        _accepting = AcceptAsync();
    }

    public PeerCertificates Certificates { get; }

    public IPEndPoint Address => _endpoint.LocalEndPoint;

    /// <summary>The first <see cref="CapturedBytes"/> each source stream carried towards the destination.</summary>
    public ConcurrentQueue<byte[]> SourceBytes { get; } = new();

    public Client.Peers.RelayDescription Describe(string authentication) => new(
        "stand-in",
        [(Address.Address.ToString(), Address.Port)],
        System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(Certificates.Server.RawData),
        ByteString.CopyFromUtf8(authentication),
        string.Empty);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _endpoint.DisposeAsync();
        try
        {
            await _accepting;
            await Task.WhenAll(_tasks);
        }
        catch (Exception exception) when (exception is OperationCanceledException or QuicException or IOException or ObjectDisposedException)
        {
            // Torn down at the end of a test.
        }

        _stop.Dispose();
        Certificates.Dispose();
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                QuicConnection connection = await _endpoint.AcceptConnectionAsync(_stop.Token);
                _tasks.Add(ServeAsync(connection));
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or QuicException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private async Task ServeAsync(QuicConnection connection)
    {
        try
        {
            var wireVersion = ConnetAlpns.GetWireVersion(ConnetConnectionKind.ClientToRelay, connection.NegotiatedApplicationProtocol);
            string side;
            await using (QuicStream authentication = await connection.AcceptInboundStreamAsync(_stop.Token))
            {
                AuthenticateReq request = (await MessageFraming.ReadAsync<AuthenticateReq>(authentication, wireVersion, _stop.Token))!;
                side = request.Authentication.ToStringUtf8();
                var response = side == "refuse"
                    ? new AuthenticateResp { Error = ConnetError.ToWireError(ConnetErrorCode.AuthenticationFailed, "refused by the stand-in") }
                    : new AuthenticateResp();
                await MessageFraming.WriteAsync(authentication, response, wireVersion, _stop.Token);
                authentication.CompleteWrites();
            }

            if (side == "destination")
            {
                _destination.TrySetResult(connection);
                return;
            }

            QuicConnection destination = await _destination.Task.WaitAsync(_stop.Token);
            while (true)
            {
                QuicStream fromSource = await connection.AcceptInboundStreamAsync(_stop.Token);
                _tasks.Add(ForwardAsync(fromSource, destination));
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or QuicException or IOException or ObjectDisposedException)
        {
            // The client went away or the test ended.
        }
    }

    private async Task ForwardAsync(QuicStream fromSource, QuicConnection destination)
    {
        await using QuicStream source = fromSource;
        try
        {
            await using QuicStream toDestination = await destination.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, _stop.Token);
            var captured = new MemoryStream();
            await Task.WhenAll(
                CopyAsync(source, toDestination, captured),
                CopyAsync(toDestination, source, capture: null));
            SourceBytes.Enqueue(captured.ToArray());
        }
        catch (Exception exception) when (exception is OperationCanceledException or QuicException or IOException or ObjectDisposedException)
        {
            source.Abort(QuicAbortDirection.Both, 0);
        }
    }

    private async Task CopyAsync(QuicStream from, QuicStream to, MemoryStream? capture)
    {
        byte[] buffer = new byte[64 * 1024];
        int read;
        while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            if (capture is not null && capture.Length < CapturedBytes)
            {
                capture.Write(buffer, 0, (int)Math.Min(read, CapturedBytes - capture.Length));
            }

            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }

        to.CompleteWrites();
    }
}

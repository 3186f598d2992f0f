using System.Net;
using Connet.Core.Certificates;
using Connet.Core.Crypto;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.ControlRelays;
using Connet.Core.Protocol.Wire.Peer;
using Connet.Core.Tunnels;
using Connet.Quic;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using RelayAuthenticateReq = Connet.Core.Protocol.Wire.Relay.AuthenticateReq;
using RelayAuthenticateResp = Connet.Core.Protocol.Wire.Relay.AuthenticateResp;

namespace Connet.Relay;

/// <summary>
/// One client connection to the relay (connet-protocol.md §2.4 "Client→relay" and "Via relay"): authentication on
/// the first stream, then for a source one task per stream, each connecting to a destination of the same endpoint
/// and splicing; a destination opens no streams of its own.
/// </summary>
internal sealed class RelayClientSession
{
    /// <summary>How long a new connection may take to open its first stream and send AuthenticateReq.</summary>
    private static readonly TimeSpan AuthenticationTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a source has to send its peer.Request after opening a stream.</summary>
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long one destination may take to accept the stream and answer (it dials its target first, so longer than
    /// the request timeout).
    /// </summary>
    private static readonly TimeSpan DestinationTimeout = TimeSpan.FromSeconds(30);

    private readonly RelayServer.SharedState _shared;
    private readonly QuicConnection _connection;
    private readonly IPEndPoint _remote;
    private readonly ILogger _logger;
    private WireVersion _version;

    public RelayClientSession(RelayServer.SharedState shared, QuicConnection connection, ILogger logger)
    {
        _shared = shared;
        _connection = connection;
        _remote = connection.RemoteEndPoint;
        _logger = logger;
    }

    public QuicConnection Connection => _connection;

    public async Task RunAsync(CancellationToken stopping)
    {
        await using var connection = _connection;
        if (!ConnetAlpns.TryGetWireVersion(ConnetConnectionKind.ClientToRelay, connection.NegotiatedApplicationProtocol.Protocol.Span, out _version))
        {
            RelayServerLog.ClientRefused(_logger, _remote, "unknown ALPN");
            await CloseQuietlyAsync(ConnetErrorCode.Unknown).ConfigureAwait(false);
            return;
        }

        RelayClient? client = await AuthenticateAsync(stopping).ConfigureAwait(false);
        if (client is null)
        {
            return;
        }

        _shared.Directory.Add(client);
        using var sessionEnd = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var streams = new List<Task>();
        try
        {
            while (true)
            {
                QuicStream stream = await connection.AcceptInboundStreamAsync(sessionEnd.Token).ConfigureAwait(false);
                streams.RemoveAll(task => task.IsCompleted);
                streams.Add(client.Role == Role.Source
                    ? ServeSourceStreamAsync(client, stream, sessionEnd)
                    : RefuseStreamAsync(stream));
            }
        }
        catch (Exception ended) when (ended is QuicException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, a stream broke the protocol (and closed the connection), or the relay is stopping.
        }
        finally
        {
            _shared.Directory.Remove(client);
            await sessionEnd.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(streams).ConfigureAwait(false);
            RelayServerLog.ClientDisconnected(_logger, _remote, client.Endpoint);
        }
    }

    public Task CloseQuietlyAsync(ConnetErrorCode code) => ConnectionRefusal.CloseQuietlyAsync(_connection, code);

    private async Task<RelayClient?> AuthenticateAsync(CancellationToken stopping)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(AuthenticationTimeout);
        QuicStream stream;
        RelayAuthenticateReq? request;
        try
        {
            stream = await _connection.AcceptInboundStreamAsync(timeout.Token).ConfigureAwait(false);
            request = await MessageFraming.ReadAsync<RelayAuthenticateReq>(stream, _version, MessageFraming.MaxHandshakeMessageSize, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception failed) when (failed is QuicException or OperationCanceledException or ConnetProtocolException or ObjectDisposedException)
        {
            RelayServerLog.ClientRefused(_logger, _remote, $"no valid authentication request: {failed.Message}");
            await CloseQuietlyAsync(ConnetErrorCode.AuthenticationFailed).ConfigureAwait(false);
            return null;
        }

        await using var authStream = stream;
        if (request is null)
        {
            await RefuseAsync(stream, "no authentication request", timeout.Token).ConfigureAwait(false);
            return null;
        }

        var authentication = Check(request);
        string? refusal = authentication.Refusal;
        if (refusal is not null)
        {
            await RefuseAsync(stream, refusal, timeout.Token).ConfigureAwait(false);
            return null;
        }

        try
        {
            await MessageFraming.WriteAsync(stream, new RelayAuthenticateResp(), _version, timeout.Token).ConfigureAwait(false);
            stream.CompleteWrites();
        }
        catch (Exception failed) when (failed is QuicException or OperationCanceledException or ConnetProtocolException)
        {
            RelayServerLog.ClientRefused(_logger, _remote, $"gone while authenticating: {failed.Message}");
            return null;
        }

        var client = new RelayClient(_connection, authentication.Endpoint, authentication.Role, _version);
        RelayServerLog.ClientAuthenticated(_logger, _remote, client.Endpoint, client.Role.ToString());
        return client;
    }

    /// <summary>Opens and checks the sealed ClientAuthentication; the refusal message says what is wrong.</summary>
    private (string Endpoint, Role Role, string? Refusal) Check(RelayAuthenticateReq request)
    {
        byte[]? sharedKey = _shared.ControlSharedKey();
        if (sharedKey is null)
        {
            return (string.Empty, Role.Unknown, "the relay has not authenticated to its control server yet");
        }

        if (!NaClBox.TryOpen(sharedKey, request.Authentication.Span, out byte[]? opened))
        {
            return (string.Empty, Role.Unknown, "the authentication was not sealed by this relay's control server");
        }

        ClientAuthentication authentication;
        try
        {
            authentication = ClientAuthentication.Parser.ParseFrom(opened);
        }
        catch (InvalidProtocolBufferException)
        {
            return (string.Empty, Role.Unknown, "the sealed authentication is not a ClientAuthentication");
        }

        string endpoint = authentication.Endpoint?.Name ?? string.Empty;
        if (endpoint.Length == 0)
        {
            return (endpoint, authentication.Role, "the authentication names no endpoint");
        }

        if (authentication.Role is not (Role.Source or Role.Destination))
        {
            return (endpoint, authentication.Role, $"the authentication's role {authentication.Role} is neither source nor destination");
        }

        if (_connection.RemoteCertificate is not { } certificate)
        {
            return (endpoint, authentication.Role, "no client certificate");
        }

        string presented = CertificateKey.Compute(certificate.GetRawCertData());
        if (!string.Equals(presented, authentication.CertificateKey, StringComparison.Ordinal))
        {
            return (endpoint, authentication.Role, $"the client certificate {presented} is not the one control authorized ({authentication.CertificateKey})");
        }

        return (endpoint, authentication.Role, null);
    }

    private async Task RefuseAsync(QuicStream stream, string reason, CancellationToken cancellationToken)
    {
        RelayServerLog.ClientRefused(_logger, _remote, reason);
        var response = new RelayAuthenticateResp { Error = ConnetError.ToWireError(ConnetErrorCode.AuthenticationFailed, reason) };
        await ConnectionRefusal.RefuseAsync(_connection, stream, response, _version, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Destinations only answer streams the relay opens; anything they open themselves is refused.</summary>
    private static async Task RefuseStreamAsync(QuicStream stream)
    {
        try
        {
            stream.Abort(QuicAbortDirection.Both, (long)ConnetErrorCode.RequestUnknown);
        }
        catch (Exception gone) when (gone is QuicException or ObjectDisposedException or InvalidOperationException)
        {
            // Already closed.
        }

        await stream.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ServeSourceStreamAsync(RelayClient source, QuicStream stream, CancellationTokenSource sessionEnd)
    {
        QuicStream? destinationStream = null;
        try
        {
            Request? request;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(sessionEnd.Token))
            {
                timeout.CancelAfter(RequestTimeout);
                request = await MessageFraming.ReadAsync<Request>(stream, source.WireVersion, MessageFraming.MaxHandshakeMessageSize, timeout.Token).ConfigureAwait(false);
                if (request is null)
                {
                    stream.CompleteWrites();
                    return;
                }

                if (request.Connect is null)
                {
                    var unknown = new Response { Error = ConnetError.ToWireError(ConnetErrorCode.RequestUnknown, "the relay only serves connect requests") };
                    await MessageFraming.WriteAsync(stream, unknown, source.WireVersion, timeout.Token).ConfigureAwait(false);
                    stream.CompleteWrites();
                    return;
                }
            }

            (destinationStream, Response response) = await ConnectDestinationAsync(source.Endpoint, request, sessionEnd.Token).ConfigureAwait(false);
            await MessageFraming.WriteAsync(stream, response, source.WireVersion, sessionEnd.Token).ConfigureAwait(false);
            if (destinationStream is null)
            {
                stream.CompleteWrites();
                return;
            }

            QuicStream spliced = destinationStream;
            destinationStream = null; // The splicer owns both streams from here.
            await StreamSplicer.SpliceAsync(stream, spliced, sessionEnd.Token).ConfigureAwait(false);
        }
        catch (ConnetProtocolException broken) when (MessageFraming.IsFramingViolation(broken))
        {
            // Garbage, an oversized length or a truncated frame: nothing more on this connection can be trusted.
            RelayServerLog.ClientProtocolError(_logger, _remote, broken.Message);
            StreamSplicer.Abort(stream);
            await CloseQuietlyAsync(ConnetErrorCode.RequestUnknown).ConfigureAwait(false);
            await sessionEnd.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception ended) when (ended is QuicException or ConnetProtocolException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // A stream broke or the session is ending: the source sees the abort rather than a hung stream.
            RelayServerLog.SpliceEnded(_logger, source.Endpoint, ended.Message);
            StreamSplicer.Abort(stream);
        }
        finally
        {
            if (destinationStream is not null)
            {
                StreamSplicer.Abort(destinationStream);
                await destinationStream.DisposeAsync().ConfigureAwait(false);
            }

            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Offers <paramref name="request"/> to each destination of <paramref name="endpoint"/>, lowest RTT first; the
    /// first <c>Response.connect</c> wins. Otherwise the response for the source says why none did.
    /// </summary>
    private async Task<(QuicStream? Stream, Response Response)> ConnectDestinationAsync(string endpoint, Request request, CancellationToken sessionEnd)
    {
        IReadOnlyList<RelayClient> destinations = _shared.Directory.DestinationsByRtt(endpoint);
        if (destinations.Count == 0)
        {
            return (null, new Response { Error = ConnetError.ToWireError(ConnetErrorCode.DestinationNotFound, $"no destination of endpoint '{endpoint}' is connected to this relay") });
        }

        Response? lastRefusal = null;
        string lastFailure = "none answered";
        foreach (RelayClient destination in destinations)
        {
            QuicStream? stream = null;
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(sessionEnd);
                timeout.CancelAfter(DestinationTimeout);
                stream = await destination.Connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, timeout.Token).ConfigureAwait(false);

                // Each leg in its own connection's framing (Go connet writes the source's; see docs/architecture.md).
                await MessageFraming.WriteAsync(stream, request, destination.WireVersion, timeout.Token).ConfigureAwait(false);
                Response response = await MessageFraming.ReadAsync<Response>(stream, destination.WireVersion, MessageFraming.MaxHandshakeMessageSize, timeout.Token).ConfigureAwait(false)
                    ?? throw new ConnetProtocolException(ConnetErrorCode.Unknown, "the destination ended the stream without answering");
                if (response.Error is not null)
                {
                    // The destination's own reason (e.g. no common relay encryption) is what the source should see.
                    lastRefusal = response;
                    lastFailure = response.Error.ToException().Message;
                    RelayServerLog.DestinationFailed(_logger, destination.Connection.RemoteEndPoint, endpoint, lastFailure);
                    continue;
                }

                if (response.Connect is null)
                {
                    throw new ConnetProtocolException(ConnetErrorCode.Unknown, "the destination answered with neither connect nor error");
                }

                QuicStream accepted = stream;
                stream = null;
                return (accepted, response);
            }
            catch (Exception failed) when (failed is QuicException or ConnetProtocolException or IOException or ObjectDisposedException
                || (failed is OperationCanceledException && !sessionEnd.IsCancellationRequested))
            {
                lastFailure = failed.Message;
                RelayServerLog.DestinationFailed(_logger, destination.Connection.RemoteEndPoint, endpoint, failed.Message);
            }
            finally
            {
                if (stream is not null)
                {
                    StreamSplicer.Abort(stream);
                    await stream.DisposeAsync().ConfigureAwait(false);
                }
            }
        }

        sessionEnd.ThrowIfCancellationRequested();
        return (null, lastRefusal ?? new Response
        {
            Error = ConnetError.ToWireError(ConnetErrorCode.DestinationDialFailed, $"none of the {destinations.Count} destinations of endpoint '{endpoint}' took the connection (last: {lastFailure})"),
        });
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Certificates;
using Connet.Core.Crypto;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire;
using Connet.Core.Protocol.Wire.Control;
using Connet.Core.Restrictions;
using Connet.Quic;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Connet.Server.Control;

/// <summary>
/// One client connection: authentication on the first stream, then one task per further stream (announce or
/// relay requests) until the connection ends or the server stops.
/// </summary>
internal sealed class ClientSession
{
    /// <summary>How long a new connection may take to open its first stream and send AuthenticateReq.</summary>
    private static readonly TimeSpan AuthenticationTimeout = TimeSpan.FromSeconds(10);

    private const int MaxCertificateLength = 64 * 1024;

    private readonly ControlServer.SharedState _shared;
    private readonly QuicConnection _connection;
    private readonly WireVersion _version;
    private readonly IPEndPoint _remote;
    private readonly ILogger _logger;
    private string _clientId = string.Empty;
    private TokenRestriction _restriction = TokenRestriction.AllowAll;
    private string _metadata = string.Empty;

    public ClientSession(ControlServer.SharedState shared, QuicConnection connection, ILogger logger)
    {
        _shared = shared;
        _connection = connection;
        _remote = connection.RemoteEndPoint;
        _logger = logger;
        _version = ConnetAlpns.GetWireVersion(ConnetConnectionKind.ClientToControl, connection.NegotiatedApplicationProtocol);
    }

    public QuicConnection Connection => _connection;

    public ControlClientStatus? Status { get; private set; }

    public async Task RunAsync(CancellationToken stopping)
    {
        await using var connection = _connection;
        if (!await AuthenticateAsync(stopping).ConfigureAwait(false))
        {
            return;
        }

        var session = _shared.Directory.Attach(_clientId);
        using var sessionEnd = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var streams = new List<Task>();
        try
        {
            while (true)
            {
                var stream = await _connection.AcceptInboundStreamAsync(sessionEnd.Token).ConfigureAwait(false);
                if (stream.Type == QuicStreamType.Unidirectional)
                {
                    // Nothing in the protocol is one-way: a client that opens such a stream is not speaking connet.
                    await stream.DisposeAsync().ConfigureAwait(false);
                    ControlServerLog.ClientProtocolError(_logger, _clientId, new ConnetProtocolException(ConnetErrorCode.RequestUnknown, "opened a unidirectional stream"));
                    await CloseQuietlyAsync(ConnetErrorCode.RequestUnknown).ConfigureAwait(false);
                    break;
                }

                streams.RemoveAll(task => task.IsCompleted);
                streams.Add(ServeStreamAsync(stream, sessionEnd));
            }
        }
        catch (Exception ended) when (ended is QuicException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away, a stream broke the protocol (and closed the connection), or the server is stopping.
        }
        finally
        {
            await sessionEnd.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(streams).ConfigureAwait(false);
            _shared.Directory.Detach(_clientId, session);
            Status = null;
            ControlServerLog.ClientDisconnected(_logger, _clientId);
        }
    }

    private async Task<bool> AuthenticateAsync(CancellationToken stopping)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(AuthenticationTimeout);
        AuthenticateReq? request;
        QuicStream stream;
        try
        {
            stream = await _connection.AcceptInboundStreamAsync(timeout.Token).ConfigureAwait(false);
            request = await MessageFraming.ReadAsync<AuthenticateReq>(stream, _version, MessageFraming.MaxHandshakeMessageSize, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception failed) when (failed is QuicException or OperationCanceledException or ConnetProtocolException or ObjectDisposedException)
        {
            ControlServerLog.ClientGoneBeforeAuthentication(_logger, _remote, failed);
            await CloseQuietlyAsync(ConnetErrorCode.AuthenticationFailed).ConfigureAwait(false);
            return false;
        }

        await using var authStream = stream;
        if (request is null)
        {
            await RefuseAsync(stream, "no authentication request", timeout.Token).ConfigureAwait(false);
            return false;
        }

        var (restriction, error) = _shared.Authenticator.Authenticate(request.Token, _remote.Address);
        if (restriction is null)
        {
            await RefuseAsync(stream, error ?? "authentication failed", timeout.Token).ConfigureAwait(false);
            return false;
        }

        var reconnectedId = request.ReconnectToken.IsEmpty ? null : _shared.ReconnectTokens.TryOpen(request.ReconnectToken.Span);
        _clientId = reconnectedId ?? NewClientId();
        _restriction = restriction;
        _metadata = request.Metadata;
        // Visible in the status before the client hears it is in, so a status read after a successful
        // authentication always lists it.
        Status = new ControlClientStatus(_clientId, _remote, request.Metadata, request.BuildVersion, _shared.TimeProvider.GetUtcNow());
        var response = new AuthenticateResp
        {
            Public = WireAddresses.ToAddrPort(_remote),
            ReconnectToken = ByteString.CopyFrom(_shared.ReconnectTokens.Seal(_clientId)),
        };
        try
        {
            await MessageFraming.WriteAsync(stream, response, _version, timeout.Token).ConfigureAwait(false);
            stream.CompleteWrites();
        }
        catch (Exception failed) when (failed is QuicException or OperationCanceledException or ConnetProtocolException)
        {
            ControlServerLog.ClientGoneBeforeAuthentication(_logger, _remote, failed);
            return false;
        }

        ControlServerLog.ClientAuthenticated(_logger, _clientId, _remote, reconnectedId is not null);
        return true;
    }

    private async Task RefuseAsync(QuicStream stream, string reason, CancellationToken cancellationToken)
    {
        ControlServerLog.AuthenticationFailed(_logger, _remote, reason);
        var response = new AuthenticateResp { Error = ConnetError.ToWireError(ConnetErrorCode.AuthenticationFailed, reason) };
        await ConnectionRefusal.RefuseAsync(_connection, stream, response, _version, cancellationToken).ConfigureAwait(false);
    }

    private async Task ServeStreamAsync(QuicStream stream, CancellationTokenSource sessionEnd)
    {
        await using var disposeStream = stream;
        try
        {
            var first = await MessageFraming.ReadAsync<Request>(stream, _version, sessionEnd.Token).ConfigureAwait(false);
            if (first is null)
            {
                stream.CompleteWrites();
            }
            else if (first.Announce is not null)
            {
                await AnnounceAsync(stream, first.Announce, sessionEnd.Token).ConfigureAwait(false);
            }
            else if (first.Relay is not null)
            {
                await RelaysAsync(stream, first.Relay, sessionEnd.Token).ConfigureAwait(false);
            }
            else
            {
                await RespondErrorAsync(stream, ConnetErrorCode.RequestUnknown, "request has neither announce nor relay", sessionEnd.Token).ConfigureAwait(false);
            }
        }
        catch (ConnetProtocolException broken) when (MessageFraming.IsFramingViolation(broken))
        {
            // A framing violation (garbage, an oversized length, a truncated frame): nothing more on this
            // connection can be trusted, so the client goes, with an error code that says it was its fault.
            ControlServerLog.ClientProtocolError(_logger, _clientId, broken);
            await CloseQuietlyAsync(ConnetErrorCode.RequestUnknown).ConfigureAwait(false);
            await sessionEnd.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception ended) when (ended is QuicException or OperationCanceledException or ConnetProtocolException or ObjectDisposedException)
        {
            // The stream or connection ended under us; the connection loop handles the rest.
        }
    }

    private async Task AnnounceAsync(QuicStream stream, Request.Types.Announce announce, CancellationToken sessionEnd)
    {
        if (Check(announce.Endpoint, announce.Role) is { } refusal)
        {
            await RespondErrorAsync(stream, refusal.Code, refusal.Message, sessionEnd).ConfigureAwait(false);
            return;
        }

        var key = new PeerKey(announce.Endpoint.Name, announce.Role, _clientId);
        using var watcher = _shared.Directory.Watch(key.Endpoint);
        using var streamEnd = CancellationTokenSource.CreateLinkedTokenSource(sessionEnd);
        using var writeLock = new SemaphoreSlim(1, 1);
        _shared.Directory.Announce(key, _metadata, announce.Peer ?? new Peer());
        var pushing = PushPeersAsync(stream, key, watcher, writeLock, streamEnd.Token);
        var withdraw = false;
        try
        {
            // Later requests on this stream replace the announcement (new addresses, relay ids).
            while (await MessageFraming.ReadAsync<Request>(stream, _version, sessionEnd).ConfigureAwait(false) is { } update)
            {
                if (update.Announce is not { } next || next.Endpoint?.Name != key.Endpoint || next.Role != key.Role)
                {
                    await WriteLockedAsync(stream, writeLock, new Response
                    {
                        Error = ConnetError.ToWireError(ConnetErrorCode.AnnounceValidationFailed, "an announce stream may only update its own endpoint and role"),
                    }, sessionEnd).ConfigureAwait(false);
                    continue;
                }

                _shared.Directory.Announce(key, _metadata, next.Peer ?? new Peer());
            }

            // The client ended the stream: it no longer offers this endpoint.
            withdraw = true;
        }
        catch (ConnetProtocolException aborted) when (IsStreamAbort(aborted))
        {
            // Aborting the stream withdraws the announcement just as ending it does; the connection lives on.
            withdraw = true;
        }
        finally
        {
            await streamEnd.CancelAsync().ConfigureAwait(false);
            try
            {
                await pushing.ConfigureAwait(false);
            }
            catch (Exception ended) when (ended is QuicException or OperationCanceledException or ConnetProtocolException)
            {
                // The stream is ending either way.
            }

            // On a lost connection the announcement stays for the grace period (the session detaches it).
            if (withdraw)
            {
                _shared.Directory.Withdraw(key);
                TryCompleteWrites(stream);
            }
        }
    }

    private async Task PushPeersAsync(QuicStream stream, PeerKey key, PeerDirectory.EndpointWatcher watcher, SemaphoreSlim writeLock, CancellationToken cancellationToken)
    {
        Response.Types.Announce? lastSent = null;
        do
        {
            var current = new Response.Types.Announce();
            current.Peers.AddRange(_shared.Directory.OppositePeers(key.Endpoint, key.Role, key.ClientId));
            if (!current.Equals(lastSent))
            {
                await WriteLockedAsync(stream, writeLock, new Response { Announce = current }, cancellationToken).ConfigureAwait(false);
                lastSent = current;
            }
        }
        while (await watcher.WaitAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// A relay stream: answers with every connected relay, each with this client's authentication sealed for that
    /// relay, and pushes a new list whenever the set of relays changes. A later <c>Request.Relay</c> on the stream
    /// (a new client certificate) re-seals; the stream ending ends it.
    /// </summary>
    private async Task RelaysAsync(QuicStream stream, Request.Types.Relay relay, CancellationToken sessionEnd)
    {
        if (Check(relay.Endpoint, relay.Role) is { } refusal)
        {
            await RespondErrorAsync(stream, refusal.Code, refusal.Message, sessionEnd).ConfigureAwait(false);
            return;
        }

        if (CheckClientCertificate(relay.ClientCertificate) is { } invalid)
        {
            await RespondErrorAsync(stream, ConnetErrorCode.RelayInvalidCertificate, invalid, sessionEnd).ConfigureAwait(false);
            return;
        }

        var endpoint = relay.Endpoint.Name;
        var role = relay.Role;
        var authentication = SealableAuthentication(endpoint, role, relay.ClientCertificate);
        using var watcher = _shared.Relays.Watch();
        using var streamEnd = CancellationTokenSource.CreateLinkedTokenSource(sessionEnd);
        var reading = MessageFraming.ReadAsync<Request>(stream, _version, streamEnd.Token).AsTask();
        var changing = watcher.WaitAsync(streamEnd.Token);
        IReadOnlyList<ConnectedRelay>? lastSent = null;
        try
        {
            while (true)
            {
                // Compared by reference: the directory makes a new list on every change, and each push seals
                // afresh (new nonces), so comparing the messages would never find two equal.
                var current = _shared.Relays.Snapshot();
                if (!ReferenceEquals(current, lastSent))
                {
                    await MessageFraming.WriteAsync(stream, new Response { Relays = RelayList(current, authentication) }, _version, sessionEnd).ConfigureAwait(false);
                    lastSent = current;
                }

                await Task.WhenAny(reading, changing).ConfigureAwait(false);
                if (changing.IsCompleted)
                {
                    if (!await changing.ConfigureAwait(false))
                    {
                        break;
                    }

                    changing = watcher.WaitAsync(streamEnd.Token);
                }

                if (reading.IsCompleted)
                {
                    if (await reading.ConfigureAwait(false) is not { } update)
                    {
                        break;
                    }

                    if (update.Relay is not { } next || next.Endpoint?.Name != endpoint || next.Role != role)
                    {
                        await RespondErrorAsync(stream, ConnetErrorCode.RelayValidationFailed,
                            "a relay stream may only renew the client certificate of its own endpoint and role", sessionEnd, completeWrites: false).ConfigureAwait(false);
                    }
                    else if (CheckClientCertificate(next.ClientCertificate) is { } invalidUpdate)
                    {
                        await RespondErrorAsync(stream, ConnetErrorCode.RelayInvalidCertificate, invalidUpdate, sessionEnd, completeWrites: false).ConfigureAwait(false);
                    }
                    else
                    {
                        authentication = SealableAuthentication(endpoint, role, next.ClientCertificate);
                        lastSent = null;
                    }

                    reading = MessageFraming.ReadAsync<Request>(stream, _version, streamEnd.Token).AsTask();
                }
            }

            TryCompleteWrites(stream);
        }
        finally
        {
            await streamEnd.CancelAsync().ConfigureAwait(false);
            await IgnoreEndingAsync(reading).ConfigureAwait(false);
            await IgnoreEndingAsync(changing).ConfigureAwait(false);
        }
    }

    /// <summary>Waits for a read or wait the stream no longer needs; how it ended was already handled or no longer matters.</summary>
    private static async Task IgnoreEndingAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ended) when (ended is QuicException or OperationCanceledException or ConnetProtocolException or ObjectDisposedException)
        {
            // Cancelled by us, or the stream broke and the caller already saw it.
        }
    }

    /// <summary>The <c>ClientAuthentication</c> a relay checks this client against, serialised once and sealed per relay.</summary>
    private static byte[] SealableAuthentication(string endpoint, Role role, ByteString clientCertificate) =>
        new Core.Protocol.Wire.ControlRelays.ClientAuthentication
        {
            Endpoint = new Endpoint { Name = endpoint },
            Role = role,
            CertificateKey = CertificateKey.Compute(clientCertificate.Span),
        }.ToByteArray();

    private static Response.Types.RelayList RelayList(IReadOnlyList<ConnectedRelay> relays, byte[] authentication)
    {
        var list = new Response.Types.RelayList();
        foreach (var relay in relays)
        {
            var entry = new Relay
            {
                Id = relay.Id,
                ServerCertificate = relay.ServerCertificate,
                Authentication = ByteString.CopyFrom(NaClBox.Seal(relay.SharedKey, authentication)),
                Metadata = relay.Metadata,
            };
            entry.Addresses.AddRange(relay.Addresses);
            list.Relays.Add(entry);
        }

        return list;
    }

    /// <summary>Why <paramref name="der"/> is not a usable client certificate, or null when it parses.</summary>
    private static string? CheckClientCertificate(ByteString der)
    {
        if (der.IsEmpty || der.Length > MaxCertificateLength)
        {
            return $"client_certificate: must be 1 to {MaxCertificateLength} bytes of DER, was {der.Length}";
        }

        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(der.Span);
            return null;
        }
        catch (CryptographicException invalid)
        {
            return $"client_certificate: not an X.509 certificate ({invalid.Message})";
        }
    }

    private (ConnetErrorCode Code, string Message)? Check(Endpoint? endpoint, Role role)
    {
        if (string.IsNullOrEmpty(endpoint?.Name))
        {
            return (ConnetErrorCode.AnnounceValidationFailed, "endpoint name is required");
        }

        if (role is not (Role.Destination or Role.Source))
        {
            return (ConnetErrorCode.AnnounceValidationFailed, $"role {role} is neither destination nor source");
        }

        return _restriction.CheckEndpoint(endpoint.Name, role) switch
        {
            ConnetErrorCode.EndpointNotAllowed => (ConnetErrorCode.EndpointNotAllowed, $"endpoint \"{endpoint.Name}\" is not allowed for this token"),
            ConnetErrorCode.RoleNotAllowed => (ConnetErrorCode.RoleNotAllowed, $"role {role} is not allowed for this token"),
            { } other => (other, other.Describe()),
            null => null,
        };
    }

    private async Task RespondErrorAsync(QuicStream stream, ConnetErrorCode code, string message, CancellationToken cancellationToken, bool completeWrites = true)
    {
        ControlServerLog.RequestRefused(_logger, _clientId, message);
        await MessageFraming.WriteAsync(stream, new Response { Error = ConnetError.ToWireError(code, message) }, _version, cancellationToken).ConfigureAwait(false);
        if (completeWrites)
        {
            stream.CompleteWrites();
        }
    }

    private async Task WriteLockedAsync(QuicStream stream, SemaphoreSlim writeLock, Response response, CancellationToken cancellationToken)
    {
        await writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await MessageFraming.WriteAsync(stream, response, _version, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            writeLock.Release();
        }
    }

    internal Task CloseQuietlyAsync(ConnetErrorCode code) => ConnectionRefusal.CloseQuietlyAsync(_connection, code);

    private static bool IsStreamAbort(ConnetProtocolException exception) =>
        exception.InnerException is QuicException { QuicError: QuicError.StreamAborted };

    private static void TryCompleteWrites(QuicStream stream)
    {
        try
        {
            stream.CompleteWrites();
        }
        catch (Exception gone) when (gone is QuicException or InvalidOperationException or ObjectDisposedException)
        {
            // The peer stopped reading or the stream is already gone: nothing left to finish.
        }
    }

    private static string NewClientId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Crypto;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire.ControlRelays;
using Connet.Quic;
using Google.Protobuf;
using Microsoft.Extensions.Logging;

namespace Connet.Server.Control;

/// <summary>
/// One relay connection: authentication on the first stream (token, addresses, certificate, box key), then the
/// relay is listed in the <see cref="RelayDirectory"/> for as long as the connection lasts. Nothing else travels on
/// it; streams the relay opens are refused.
/// </summary>
internal sealed class RelaySession
{
    /// <summary>The most addresses a relay may advertise; every client gets them all.</summary>
    internal const int MaxAddresses = 16;

    /// <summary>A DNS name is at most 253 characters; the margin allows an IPv6 literal with a zone.</summary>
    internal const int MaxHostLength = 255;

    internal const int MaxCertificateLength = 64 * 1024;

    internal const int MaxMetadataLength = 4 * 1024;

    /// <summary>Streams a relay may open (each refused) before it is disconnected as misbehaving.</summary>
    internal const int MaxRefusedStreams = 16;

    private static readonly TimeSpan AuthenticationTimeout = TimeSpan.FromSeconds(10);

    private readonly ControlServer.SharedState _shared;
    private readonly QuicConnection _connection;
    private readonly WireVersion _version;
    private readonly IPEndPoint _remote;
    private readonly ILogger _logger;

    public RelaySession(ControlServer.SharedState shared, QuicConnection connection, ILogger logger)
    {
        _shared = shared;
        _connection = connection;
        _remote = connection.RemoteEndPoint;
        _logger = logger;

        // connet-relay/0.3 is the legacy (8-byte) framing here, unlike between a client and a relay.
        _version = ConnetAlpns.GetWireVersion(ConnetConnectionKind.RelayToControl, connection.NegotiatedApplicationProtocol);
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        await using var connection = _connection;
        var relay = await AuthenticateAsync(stopping).ConfigureAwait(false);
        if (relay is null)
        {
            return;
        }

        try
        {
            // The relay has nothing more to say on this connection; keep-alives hold it open. A stream it opens
            // anyway is refused, and one that keeps opening them is cut off.
            for (var refused = 0; refused < MaxRefusedStreams; refused++)
            {
                var stream = await _connection.AcceptInboundStreamAsync(stopping).ConfigureAwait(false);
                stream.Abort(QuicAbortDirection.Both, (long)ConnetErrorCode.RequestUnknown);
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            ControlServerLog.RelayProtocolError(_logger, relay.Id, $"opened {MaxRefusedStreams} streams after authenticating");
            await CloseQuietlyAsync(ConnetErrorCode.RequestUnknown).ConfigureAwait(false);
        }
        catch (Exception ended) when (ended is QuicException or OperationCanceledException or ObjectDisposedException)
        {
            // The relay went away or the server is stopping.
        }
        finally
        {
            _shared.Relays.Unregister(relay);
            ControlServerLog.RelayDisconnected(_logger, relay.Id);
        }
    }

    private async Task<ConnectedRelay?> AuthenticateAsync(CancellationToken stopping)
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
            // Garbage, an oversized frame, a truncated one, silence: this relay goes, no one else notices.
            ControlServerLog.RelayGoneBeforeAuthentication(_logger, _remote, failed);
            await CloseQuietlyAsync(ConnetErrorCode.AuthenticationFailed).ConfigureAwait(false);
            return null;
        }

        await using var authStream = stream;
        if (request is null)
        {
            await RefuseAsync(stream, "no authentication request", timeout.Token).ConfigureAwait(false);
            return null;
        }

        // The token first, so an unauthenticated peer learns nothing about what else we check.
        var (restriction, error) = _shared.RelayAuthenticator.Authenticate(request.Token, _remote.Address);
        if (restriction is null)
        {
            await RefuseAsync(stream, error ?? "authentication failed", timeout.Token).ConfigureAwait(false);
            return null;
        }

        if (Validate(request) is { } invalid)
        {
            await RefuseAsync(stream, invalid, timeout.Token).ConfigureAwait(false);
            return null;
        }

        byte[] sharedKey;
        try
        {
            sharedKey = NaClBox.Precompute(request.RelayAuthenticationKey.Span, _shared.RelayBoxKeys.PrivateKey);
        }
        catch (CryptographicException)
        {
            await RefuseAsync(stream, "relay_authentication_key is not a usable X25519 public key (low-order point)", timeout.Token).ConfigureAwait(false);
            return null;
        }

        var reconnectedId = request.ReconnectToken.IsEmpty
            ? null
            : _shared.ReconnectTokens.TryOpen(request.ReconnectToken.Span, ReconnectTokenPurpose.Relay);
        var relayId = reconnectedId ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var relay = new ConnectedRelay(
            relayId,
            [.. request.Addresses.Select(address => address.Clone())],
            request.ServerCertificate,
            sharedKey,
            request.Metadata,
            _remote,
            _shared.TimeProvider.GetUtcNow());
        var response = new AuthenticateResp
        {
            ControlId = _shared.ServerId,
            ReconnectToken = ByteString.CopyFrom(_shared.ReconnectTokens.Seal(relayId, ReconnectTokenPurpose.Relay)),
            ControlAuthenticationKey = ByteString.CopyFrom(_shared.RelayBoxKeys.PublicKey),
        };
        // Listed before the relay hears it is in, so a client or status read after a successful authentication
        // always sees it.
        _shared.Relays.Register(relay);
        try
        {
            await MessageFraming.WriteAsync(stream, response, _version, timeout.Token).ConfigureAwait(false);
            stream.CompleteWrites();
        }
        catch (Exception failed) when (failed is QuicException or OperationCanceledException or ConnetProtocolException)
        {
            _shared.Relays.Unregister(relay);
            ControlServerLog.RelayGoneBeforeAuthentication(_logger, _remote, failed);
            return null;
        }

        ControlServerLog.RelayAuthenticated(_logger, relayId, _remote, reconnectedId is not null);
        return relay;
    }

    /// <summary>What is wrong with an authenticated relay's request, naming the field; null when it is usable.</summary>
    internal static string? Validate(AuthenticateReq request)
    {
        if (request.Addresses.Count == 0)
        {
            return "addresses: at least one host:port is required";
        }

        if (request.Addresses.Count > MaxAddresses)
        {
            return $"addresses: {request.Addresses.Count} given, at most {MaxAddresses} allowed";
        }

        for (var index = 0; index < request.Addresses.Count; index++)
        {
            var address = request.Addresses[index];
            if (string.IsNullOrWhiteSpace(address.Host) || address.Host.Length > MaxHostLength)
            {
                return $"addresses[{index}]: host must be 1 to {MaxHostLength} characters";
            }

            if (address.Port is 0 or > IPEndPoint.MaxPort)
            {
                return $"addresses[{index}]: port {address.Port} is not between 1 and {IPEndPoint.MaxPort}";
            }
        }

        if (request.Metadata.Length > MaxMetadataLength)
        {
            return $"metadata: {request.Metadata.Length} characters, at most {MaxMetadataLength} allowed";
        }

        if (request.ServerCertificate.IsEmpty || request.ServerCertificate.Length > MaxCertificateLength)
        {
            return $"server_certificate: must be 1 to {MaxCertificateLength} bytes of DER, was {request.ServerCertificate.Length}";
        }

        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(request.ServerCertificate.Span);
        }
        catch (CryptographicException invalid)
        {
            return $"server_certificate: not an X.509 certificate ({invalid.Message})";
        }

        if (request.RelayAuthenticationKey.Length != NaClBox.KeyLength)
        {
            return $"relay_authentication_key: must be {NaClBox.KeyLength} bytes, was {request.RelayAuthenticationKey.Length}";
        }

        return null;
    }

    private async Task RefuseAsync(QuicStream stream, string reason, CancellationToken cancellationToken)
    {
        ControlServerLog.RelayAuthenticationFailed(_logger, _remote, reason);
        var response = new AuthenticateResp { Error = ConnetError.ToWireError(ConnetErrorCode.AuthenticationFailed, reason) };
        await ConnectionRefusal.RefuseAsync(_connection, stream, response, _version, cancellationToken).ConfigureAwait(false);
    }

    internal Task CloseQuietlyAsync(ConnetErrorCode code) => ConnectionRefusal.CloseQuietlyAsync(_connection, code);
}

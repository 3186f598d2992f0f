using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Connet.Core.Certificates;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire.Relay;
using Connet.Quic;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WireRelay = Connet.Core.Protocol.Wire.Control.Relay;

namespace Connet.Client.Peers;

/// <summary>A relay as control offered it: where to reach it, the certificate to pin and the sealed authentication to pass on.</summary>
internal sealed record RelayDescription(
    string Id,
    IReadOnlyList<(string Host, int Port)> Addresses,
    X509Certificate2 ServerCertificate,
    ByteString Authentication,
    string Metadata)
{
    /// <summary>Bounds what one relay entry from the network may make us dial.</summary>
    public const int MaxAddresses = 16;

    /// <summary>Reads a <c>control.Relay</c>; null (with the reason) when it is unusable.</summary>
    public static RelayDescription? TryCreate(WireRelay relay, out string? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(relay.Id) || relay.Id.Length > 256)
        {
            problem = "no usable relay id";
            return null;
        }

        if (relay.Addresses.Count == 0 || relay.Addresses.Count > MaxAddresses)
        {
            problem = $"{relay.Addresses.Count} addresses (1 to {MaxAddresses} allowed)";
            return null;
        }

        var addresses = new List<(string Host, int Port)>();
        foreach (var hostPort in relay.Addresses)
        {
            if (string.IsNullOrWhiteSpace(hostPort.Host) || hostPort.Host.Length > 253 || hostPort.Port is 0 or > IPEndPoint.MaxPort)
            {
                problem = $"unusable address '{hostPort.Host}:{hostPort.Port}'";
                return null;
            }

            addresses.Add((hostPort.Host, (int)hostPort.Port));
        }

        try
        {
            var certificate = X509CertificateLoader.LoadCertificate(relay.ServerCertificate.Span);
            return new RelayDescription(relay.Id, addresses, certificate, relay.Authentication, relay.Metadata);
        }
        catch (CryptographicException exception)
        {
            problem = $"unreadable server certificate: {exception.Message}";
            return null;
        }
    }

    /// <summary>Whether <paramref name="relay"/> is this same relay instance (authentication may be resealed, it is not compared).</summary>
    public bool SameAs(RelayDescription relay) =>
        Id == relay.Id
        && ServerCertificate.RawDataMemory.Span.SequenceEqual(relay.ServerCertificate.RawDataMemory.Span)
        && Addresses.SequenceEqual(relay.Addresses);

    public string DescribeAddresses() => string.Join(", ", Addresses.Select(address => $"{address.Host}:{address.Port}"));
}

/// <summary>
/// Connects an endpoint to a relay from the client's shared <see cref="QuicEndpoint"/> (connet-protocol.md §2.4
/// "Client→relay"): each of the relay's addresses in order, SNI <c>&lt;random&gt;.reserve.relay.invalid</c>, the
/// relay's certificate pinned exactly, the endpoint's client certificate presented; then <c>relay.AuthenticateReq</c>
/// with the authentication control sealed for that relay. The relay opens streams towards destinations, so the
/// connection accepts inbound bidirectional streams.
/// </summary>
internal sealed partial class RelayDialer
{
    private readonly QuicEndpoint _endpoint;
    private readonly ILogger _logger;
    private readonly string _metadata;
    private readonly string _buildVersion;
    private readonly TimeSpan _handshakeTimeout;
    private readonly TimeSpan _requestTimeout;

    public RelayDialer(QuicEndpoint endpoint, string metadata, string buildVersion, ILogger? logger = null, TimeSpan? handshakeTimeout = null, TimeSpan? requestTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _endpoint = endpoint;
        _metadata = metadata;
        _buildVersion = buildVersion;
        _logger = logger ?? NullLogger.Instance;
        _handshakeTimeout = handshakeTimeout ?? DirectPeerOptions.DefaultHandshakeTimeout;
        _requestTimeout = requestTimeout ?? DirectPeerOptions.DefaultRequestTimeout;
    }

    /// <summary>Connects and authenticates to the first of the relay's addresses that works.</summary>
    /// <exception cref="ConnetProtocolException">Every address failed (naming each and why), or the relay refused the authentication.</exception>
    public async ValueTask<PeerConnection> DialAsync(PeerCertificates local, RelayDescription relay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(local);
        ArgumentNullException.ThrowIfNull(relay);
        var failures = new StringBuilder();
        Exception? lastFailure = null;
        foreach (var (host, port) in relay.Addresses)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                IPEndPoint address = await ResolveAsync(host, port, cancellationToken).ConfigureAwait(false);
                return await DialOneAsync(local, relay, address, cancellationToken).ConfigureAwait(false);
            }
            catch (ConnetProtocolException exception) when (exception.Code == ConnetErrorCode.AuthenticationFailed)
            {
                // The relay answered and refused us: another address of the same relay would answer the same.
                throw;
            }
            catch (Exception exception) when (exception is QuicException or ConnetProtocolException or SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                Log.DialFailed(_logger, relay.Id, $"{host}:{port}", exception.Message);
                failures.Append(failures.Length == 0 ? string.Empty : "; ").Append(host).Append(':').Append(port).Append(": ").Append(exception.Message);
                lastFailure = exception;
            }
        }

        throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"cannot connect to relay {relay.Id}: {failures}", lastFailure);
    }

    private async Task<IPEndPoint> ResolveAsync(string host, int port, CancellationToken cancellationToken)
    {
        AddressFamily family = _endpoint.LocalEndPoint.AddressFamily;
        IPAddress[] addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        IPAddress? address = addresses.FirstOrDefault(candidate => candidate.AddressFamily == family);
        if (address is null && family == AddressFamily.InterNetworkV6 && addresses.Length > 0)
        {
            address = addresses[0].MapToIPv6();
        }

        return address is null
            ? throw new SocketException((int)SocketError.AddressFamilyNotSupported)
            : new IPEndPoint(address, port);
    }

    private async Task<PeerConnection> DialOneAsync(PeerCertificates local, RelayDescription relay, IPEndPoint address, CancellationToken cancellationToken)
    {
        string? pinFailure = null;
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)) + ".reserve.relay.invalid",
            ApplicationProtocols = ConnetAlpns.ApplicationProtocols(ConnetConnectionKind.ClientToRelay),
            ClientCertificates = [local.Client],
            RemoteCertificateValidationCallback = (_, certificate, _, _) =>
            {
                if (certificate is not X509Certificate2 presented)
                {
                    pinFailure = "no server certificate";
                    return false;
                }

                return PeerCertificates.VerifyPinned(presented, relay.ServerCertificate, PeerCertificates.ServerAuthentication, out pinFailure);
            },
        };
        var options = DirectPeerOptions.Apply(new QuicClientConnectionOptions { RemoteEndPoint = address, ClientAuthenticationOptions = authentication }, _handshakeTimeout);

        QuicConnection connection;
        try
        {
            connection = await _endpoint.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch (QuicException exception) when (pinFailure is not null)
        {
            throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"the relay's certificate is not the one control announced: {pinFailure}", exception);
        }

        try
        {
            var wireVersion = ConnetAlpns.GetWireVersion(ConnetConnectionKind.ClientToRelay, connection.NegotiatedApplicationProtocol);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_requestTimeout);
            await using (QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Bidirectional, timeout.Token).ConfigureAwait(false))
            {
                await MessageFraming.WriteAsync(stream, new AuthenticateReq
                {
                    Authentication = relay.Authentication,
                    Metadata = _metadata,
                    BuildVersion = _buildVersion,
                }, wireVersion, timeout.Token).ConfigureAwait(false);
                stream.CompleteWrites();
                AuthenticateResp response = await MessageFraming.ReadAsync<AuthenticateResp>(stream, wireVersion, timeout.Token).ConfigureAwait(false)
                    ?? throw new ConnetProtocolException(ConnetErrorCode.Unknown, $"relay {relay.Id} ended the authentication stream without answering");
                ConnetError.ThrowIfSet(response.Error);
            }

            var peer = new PeerConnection(connection, PeerConnectionDirection.Relay, CertificateKey.Compute(relay.ServerCertificate.RawData), wireVersion, relay.Id);
            Log.Connected(_logger, peer.ToString());
            return peer;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Connected to {Relay}")]
        public static partial void Connected(ILogger logger, string relay);

        [LoggerMessage(2, LogLevel.Debug, "Dialing relay {Relay} at {Address} failed: {Reason}")]
        public static partial void DialFailed(ILogger logger, string relay, string address, string reason);
    }
}

using System.Net;
using Connet.Quic.Core.Connection;

using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Frames;
using Connet.Quic.Core.Packets;

namespace Connet.Quic.Core.Endpoint;

/// <summary>
/// The sans-IO half of one UDP socket: routes datagrams to connections by the connection IDs they issued, decides when
/// a client's Initial becomes a new server connection, and answers what needs no connection (Version Negotiation,
/// Retry, Stateless Reset). Not thread-safe: the I/O layer serialises calls.
/// </summary>
internal sealed class EndpointCore : IDisposable
{
    /// <summary>RFC 9000 §14.1: a client's Initial datagram is padded to at least this size.</summary>
    public const int MinInitialDatagramLength = 1200;

    /// <summary>RFC 9000 §7.2: the DCID of a client's first Initial is at least 8 bytes.</summary>
    public const int MinClientDestinationIdLength = 8;

    /// <summary>A response buffer of this size fits every response the endpoint writes.</summary>
    public const int MaxResponseLength = 600;

    /// <summary>Datagrams shorter than this never trigger a stateless reset.</summary>
    public const int MinStatelessResetTrigger = 43;

    private readonly EndpointCoreOptions _options;
    private readonly Dictionary<ConnectionId, ConnectionHandle> _routes = [];
    private readonly Dictionary<ConnectionHandle, List<ConnectionId>> _routesByHandle = [];
    private readonly Dictionary<ConnectionHandle, ConnectionId> _initialRoutes = [];
    private readonly HashSet<ConnectionHandle> _awaitingAccept = [];
    private readonly RetryTokenProtector _retryTokens = new();
    private readonly ResetRateLimiter _resetLimiter;
    private long _nextHandle;

    public EndpointCore(EndpointCoreOptions options)
    {
        if (options.ConnectionIdLength is < 4 or > ConnectionId.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ConnectionIdLength, "Connection ID length must be 4..20.");
        }

        _options = options;
        _resetLimiter = new ResetRateLimiter(options.MaxStatelessResetsPerSecond);
    }

    public EndpointCoreOptions Options => _options;

    /// <summary>Server connections handed out by <see cref="Handle"/> and not yet accepted or forgotten.</summary>
    public int PendingAcceptCount => _awaitingAccept.Count;

    public int ConnectionCount => _routesByHandle.Count;

    /// <summary>Registers a connection the owner created (a client) and returns its handle; routes come from its endpoint events.</summary>
    public ConnectionHandle AddConnection()
    {
        var handle = new ConnectionHandle(++_nextHandle);
        _routesByHandle.Add(handle, []);
        return handle;
    }

    public bool TryGetRoute(ConnectionId connectionId, out ConnectionHandle handle) => _routes.TryGetValue(connectionId, out handle);

    /// <summary>Applies one event from <see cref="Connection.Connection.PollEndpointEvent"/>; false once the connection is drained.</summary>
    public bool ApplyEndpointEvent(ConnectionHandle handle, in EndpointEvent endpointEvent)
    {
        switch (endpointEvent.Kind)
        {
            case EndpointEventKind.ConnectionIdIssued:
                if (_routesByHandle.TryGetValue(handle, out List<ConnectionId>? ids) && _routes.TryAdd(endpointEvent.ConnectionId, handle))
                {
                    ids.Add(endpointEvent.ConnectionId);
                }

                return true;
            case EndpointEventKind.ConnectionIdRetired:
                RemoveRoute(handle, endpointEvent.ConnectionId);
                return true;
            case EndpointEventKind.Drained:
                Forget(handle);
                return false;
            default:
                return true;
        }
    }

    /// <summary>
    /// The server connection finished its handshake: the client no longer uses the DCID it picked for its first
    /// Initial (RFC 9000 §7.2), so stop routing it.
    /// </summary>
    public void OnHandshakeCompleted(ConnectionHandle handle)
    {
        if (_initialRoutes.Remove(handle, out ConnectionId initial))
        {
            RemoveRoute(handle, initial);
        }
    }

    /// <summary>The application took this server connection from the accept queue (or it died before that).</summary>
    public void OnAccepted(ConnectionHandle handle) => _awaitingAccept.Remove(handle);

    /// <summary>Drops every route of a connection, e.g. when it is drained or could not be created.</summary>
    public void Forget(ConnectionHandle handle)
    {
        if (_routesByHandle.Remove(handle, out List<ConnectionId>? ids))
        {
            foreach (ConnectionId id in ids)
            {
                _routes.Remove(id);
            }
        }

        _initialRoutes.Remove(handle);
        _awaitingAccept.Remove(handle);
    }

    /// <summary>
    /// Decides what to do with one received datagram. Responses are written into <paramref name="response"/>
    /// (at least <see cref="MaxResponseLength"/> bytes). Never throws for any input.
    /// </summary>
    public EndpointResult Handle(Instant now, IPEndPoint remote, ReadOnlySpan<byte> datagram, Span<byte> response)
    {
        if (datagram.IsEmpty)
        {
            return EndpointResult.Dropped;
        }

        if (!IsQuic(datagram))
        {
            return new EndpointResult(EndpointResultKind.Raw);
        }

        if (!InvariantHeader.TryParse(datagram, _options.ConnectionIdLength, out InvariantHeader header))
        {
            return EndpointResult.Dropped;
        }

        ReadOnlySpan<byte> dcid = header.DestinationConnectionId(datagram);
        if (ConnectionId.TryCreate(dcid, out ConnectionId destination) && _routes.TryGetValue(destination, out ConnectionHandle handle))
        {
            return new EndpointResult(EndpointResultKind.Routed, handle);
        }

        if (!header.IsLongHeader)
        {
            return TryStatelessReset(now, datagram, dcid, response);
        }

        if (header.Version == 0)
        {
            // A Version Negotiation packet for no connection of ours; never answer one (RFC 9000 §6.1).
            return EndpointResult.Dropped;
        }

        if (header.Version != InvariantHeader.Version1)
        {
            if (!_options.IsListening || datagram.Length < MinInitialDatagramLength)
            {
                return EndpointResult.Dropped;
            }

            int length = PacketWriter.WriteVersionNegotiation(
                response, header.SourceConnectionId(datagram), dcid, [QuicVersion.Version1], _options.Random);
            return new EndpointResult(EndpointResultKind.Response, ResponseLength: length);
        }

        return header.IsVersion1Initial ? TryAccept(now, remote, datagram, header, destination, response) : EndpointResult.Dropped;
    }

    /// <summary>
    /// Answers a client's first Initial with CONNECTION_CLOSE(CONNECTION_REFUSED) in an Initial of our own, so a client
    /// we will not serve learns why at once instead of timing out. Initial keys need only the client's DCID, so no
    /// connection state is created. Returns 0 when the datagram is no v1 Initial.
    /// </summary>
    public static int WriteConnectionRefused(ReadOnlySpan<byte> clientInitial, Span<byte> response, string reason, RandomSource random)
    {
        if (!PacketParser.TryParse(clientInitial, 0, out PacketHeader header) || header.Type != PacketType.Initial || !header.IsVersionSupported
            || header.DestinationConnectionIdLength > ConnectionId.MaxLength || header.SourceConnectionIdLength > ConnectionId.MaxLength)
        {
            return 0;
        }

        Span<byte> sourceId = stackalloc byte[MinClientDestinationIdLength];
        random.Fill(sourceId);
        int headerLength = PacketWriter.WriteLongHeader(
            response, PacketType.Initial, header.SourceConnectionId(clientInitial), sourceId, [], 0, 1, out int lengthOffset, out int packetNumberOffset);

        var frames = new SpanWriter(response[headerLength..(MaxResponseLength - 16)]);
        ConnectionCloseFrame.Encode(ref frames, false, (ulong)TransportErrorCode.ConnectionRefused, 0, reason, Math.Min(frames.Remaining, 200));
        int payloadLength = Math.Max(frames.Position, 3);
        response.Slice(headerLength + frames.Position, payloadLength - frames.Position).Clear();
        PacketWriter.PatchLength(response, lengthOffset, 1 + payloadLength + 16);

        (_, byte[] serverSecret) = QuicKeys.DeriveInitialSecrets(header.DestinationConnectionId(clientInitial));
        using IPacketKey packetKey = QuicKeys.CreatePacketKey(CipherSuite.Aes128GcmSha256, serverSecret);
        using IHeaderKey headerKey = QuicKeys.CreateHeaderKey(CipherSuite.Aes128GcmSha256, serverSecret);
        return PacketWriter.Protect(response, packetNumberOffset, 1, 0, payloadLength, packetKey, headerKey);
    }

    public void Dispose() => _retryTokens.Dispose();

    private static bool IsQuic(ReadOnlySpan<byte> datagram)
    {
        byte first = datagram[0];
        if ((first & InvariantHeader.FixedBit) != 0)
        {
            return true;
        }

        // Version Negotiation may leave the fixed bit clear (RFC 9000 §17.2.1): still ours.
        return (first & InvariantHeader.LongHeaderBit) != 0
            && datagram.Length >= 5
            && datagram[1] == 0 && datagram[2] == 0 && datagram[3] == 0 && datagram[4] == 0;
    }

    private EndpointResult TryAccept(
        Instant now, IPEndPoint remote, ReadOnlySpan<byte> datagram, in InvariantHeader header, ConnectionId destination, Span<byte> response)
    {
        if (!_options.IsListening
            || datagram.Length < MinInitialDatagramLength
            || header.DestinationConnectionIdLength < MinClientDestinationIdLength
            || _awaitingAccept.Count >= _options.AcceptBacklog
            || !ClientHelloPeek.IsAuthenticInitial(datagram))
        {
            return EndpointResult.Dropped;
        }

        ReadOnlySpan<byte> token = header.Token(datagram);
        AcceptInfo accept;
        if (RetryTokenProtector.LooksLikeRetryToken(token))
        {
            // A bad Retry token means the client will not take another Retry (RFC 9000 §8.1.3): drop and let it time out.
            if (!_retryTokens.TryOpen(token, remote, now, out ConnectionId original, out ConnectionId retrySource)
                || retrySource != destination)
            {
                return EndpointResult.Dropped;
            }

            accept = new AcceptInfo(original, retrySource, AddressValidated: true);
        }
        else if (_options.RequireRetry)
        {
            return WriteRetry(now, remote, datagram, header, destination, response);
        }
        else
        {
            accept = new AcceptInfo(destination, null, AddressValidated: false);
        }

        ConnectionHandle handle = AddConnection();
        _routes[destination] = handle;
        _routesByHandle[handle].Add(destination);
        _initialRoutes[handle] = destination;
        _awaitingAccept.Add(handle);
        return new EndpointResult(EndpointResultKind.NewConnection, handle, Accept: accept);
    }

    private EndpointResult WriteRetry(
        Instant now, IPEndPoint remote, ReadOnlySpan<byte> datagram, in InvariantHeader header, ConnectionId destination, Span<byte> response)
    {
        // The client's next Initial carries this ID as its DCID, which must pass the 8-byte minimum again.
        var retrySource = ConnectionId.Random(_options.Random, Math.Max(MinClientDestinationIdLength, _options.ConnectionIdLength));
        Span<byte> token = stackalloc byte[RetryTokenProtector.MaxTokenLength];
        int tokenLength = _retryTokens.Seal(token, remote, destination, retrySource, now + _options.RetryTokenLifetime);
        int length = PacketWriter.WriteRetry(
            response,
            header.SourceConnectionId(datagram),
            retrySource.Span,
            token[..tokenLength],
            destination.Span,
            _options.Random);
        return new EndpointResult(EndpointResultKind.Response, ResponseLength: length);
    }

    private EndpointResult TryStatelessReset(Instant now, ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> dcid, Span<byte> response)
    {
        byte[]? key = _options.StatelessResetKey;
        if (key is null)
        {
            return EndpointResult.Dropped;
        }

        // Tiny triggers get no reply at all: two endpoints answering each other's resets must run out quickly (§10.3.3).
        if (datagram.Length < MinStatelessResetTrigger
            || !PacketWriter.TryChooseStatelessResetLength(datagram.Length, _options.Random, out int length)
            || !_resetLimiter.TryTake(now))
        {
            return EndpointResult.Dropped;
        }

        PacketWriter.WriteStatelessReset(response, length, StatelessResetToken.Derive(key, dcid), _options.Random);
        return new EndpointResult(EndpointResultKind.Response, ResponseLength: length);
    }

    private void RemoveRoute(ConnectionHandle handle, ConnectionId connectionId)
    {
        if (_routes.TryGetValue(connectionId, out ConnectionHandle owner) && owner == handle)
        {
            _routes.Remove(connectionId);
            _routesByHandle.GetValueOrDefault(handle)?.Remove(connectionId);
        }
    }
}

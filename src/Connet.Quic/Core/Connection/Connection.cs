using System.Net;
using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Core.Crypto;
using Connet.Quic.Core.Parameters;
using Connet.Quic.Core.Recovery;
using Connet.Quic.Core.Streams;
using Connet.Quic.Core.Tls;

namespace Connet.Quic.Core.Connection;

/// <summary>
/// One QUIC connection as a sans-IO state machine. Inputs: <see cref="HandleDatagram"/>, <see cref="HandleTimeout"/>
/// and the stream/close calls. Outputs, polled in this order after every input: <see cref="PollTransmit"/> until it
/// returns 0, <see cref="PollTimeout"/>, <see cref="PollEndpointEvent"/>, <see cref="PollEvent"/>.
/// Not thread-safe: the driver serialises all calls.
/// </summary>
internal sealed partial class Connection : IDisposable
{
    /// <summary>The smallest datagram that may carry an Initial (RFC 9000 §14.1), and our sending size until the path proves more.</summary>
    public const int MinimumDatagramSize = 1200;

    private const int ClientInitialConnectionIdLength = 8;

    private readonly ConnectionOptions _options;
    private readonly RandomSource _random;
    private readonly ITlsSession _tls;
    private readonly PacketSpace[] _spaces;
    private readonly RttEstimator _rtt;
    private readonly NewRenoCongestionController _congestion;
    private readonly LossDetection _loss;
    private readonly Pacer _pacer;
    private readonly StreamManager _streams;
    private readonly Queue<ConnectionEvent> _events = new();
    private readonly Queue<EndpointEvent> _endpointEvents = new();
    private readonly List<SentPacket> _ackedScratch = new();
    private readonly List<SentPacket> _lostScratch = new();
    private readonly TransportParameters _localParameters;

    private OneRttKeys? _oneRtt;
    private ConnectionState _state;
    private TransportParameters? _peerParameters;
    private Instant _lastActivity;
    private Instant _handshakeDeadline;
    private Instant _closeDeadline = Instant.Never;
    private Instant _lastAckElicitingSent;
    private bool _ackElicitingSentSinceReceive;
    private bool _handshakeConfirmed;
    private bool _handshakeDoneToSend;
    private bool _sendConnectionClose;
    private int _closePacketsAllowed;
    private ulong _closeErrorCode;
    private ulong _closeFrameType;
    private bool _closeIsApplication;
    private string _closeReason = string.Empty;
    private int _maxDatagramSize = MinimumDatagramSize;
    private byte[] _retryToken = [];
    private bool _receivedAnyPacket;
    private bool _retryReceived;
    private ConnectionId _originalDestinationConnectionId;
    private ConnectionId? _retrySourceConnectionId;
    private ConnectionId _initialSourceConnectionIdFromPeer;
    private bool _peerInitialSourceSet;
    private long _invalidPackets;

    private Connection(bool isClient, ConnectionOptions options, IPEndPoint remote, Instant now, Func<byte[], ITlsSession> createTls, ConnectionId? originalDestinationConnectionId, ConnectionId? retrySourceConnectionId, bool addressValidated)
    {
        IsClient = isClient;
        _options = options;
        _random = options.Random;
        _spaces = [new PacketSpace(EncryptionLevel.Initial), new PacketSpace(EncryptionLevel.Handshake), new PacketSpace(EncryptionLevel.OneRtt)];
        _spaces[(int)EncryptionLevel.OneRtt].Received.SetMaxAckDelay(options.MaxAckDelay);
        _rtt = new RttEstimator(TimeSpan.FromMilliseconds(333));
        _congestion = new NewRenoCongestionController(MinimumDatagramSize);
        _loss = new LossDetection(_rtt, _congestion);
        _pacer = new Pacer();
        _path = new PathState(remote, addressValidated || isClient);
        if (!isClient)
        {
            // Loss detection's "peer completed address validation" is about the client validating us; a server assumes it (RFC 9002 A.6).
            _loss.SetPeerAddressValidated();
        }

        _lastActivity = now;
        _handshakeDeadline = now + options.HandshakeTimeout;

        ConnectionId localId = ConnectionId.Random(_random, options.LocalConnectionIdLength);
        IssueInitialConnectionId(localId);

        if (isClient)
        {
            _remoteConnectionId = ConnectionId.Random(_random, ClientInitialConnectionIdLength);
            _originalDestinationConnectionId = _remoteConnectionId;
        }
        else
        {
            _originalDestinationConnectionId = originalDestinationConnectionId!.Value;
            _retrySourceConnectionId = retrySourceConnectionId;
        }

        (byte[] clientSecret, byte[] serverSecret) = QuicKeys.DeriveInitialSecrets(
            (retrySourceConnectionId ?? _originalDestinationConnectionId).Span);
        InstallInitialKeys(clientSecret, serverSecret);

        var local = new StreamLimits(
            MaxData: (ulong)options.ConnectionReceiveWindow,
            MaxStreamDataBidiLocal: (ulong)options.StreamReceiveWindow,
            MaxStreamDataBidiRemote: (ulong)options.StreamReceiveWindow,
            MaxStreamDataUni: (ulong)options.StreamReceiveWindow,
            MaxStreamsBidi: (ulong)options.MaxInboundBidirectionalStreams,
            MaxStreamsUni: (ulong)options.MaxInboundUnidirectionalStreams);
        _streams = new StreamManager(isClient, local, options.StreamSendBufferSize);

        _localParameters = BuildLocalParameters(localId, local);
        _tls = createTls(_localParameters.Encode());
        _tls.Start();
        PumpTls(now);
    }

    public static Connection CreateClient(ConnectionOptions options, TlsClientConfig tls, IPEndPoint remote, Instant now) =>
        new(true, options, remote, now, parameters => TlsSession.CreateClient(tls, parameters), null, null, addressValidated: true);

    /// <summary>
    /// Creates a server connection for a client's first Initial. <paramref name="originalDestinationConnectionId"/> is the
    /// DCID of the client's first Initial; when the client was validated with Retry, <paramref name="retrySourceConnectionId"/>
    /// is the SCID our Retry carried (and the DCID of this Initial) and <paramref name="addressValidated"/> is true.
    /// The datagram itself is then fed with <see cref="HandleDatagram"/>.
    /// </summary>
    public static Connection CreateServer(
        ConnectionOptions options,
        TlsServerConfig tls,
        IPEndPoint remote,
        ConnectionId originalDestinationConnectionId,
        ConnectionId? retrySourceConnectionId,
        bool addressValidated,
        Instant now) =>
        new(false, options, remote, now, parameters => TlsSession.CreateServer(tls, parameters), originalDestinationConnectionId, retrySourceConnectionId, addressValidated);

    public bool IsClient { get; }

    public bool IsHandshakeComplete { get; private set; }

    /// <summary>True once closing or draining has finished; the driver then disposes it.</summary>
    public bool IsDrained => _state == ConnectionState.Drained;

    /// <summary>Set once the connection starts closing, for whatever reason.</summary>
    public ConnectionCloseInfo? CloseInfo { get; private set; }

    public IPEndPoint RemoteEndPoint => _path.Remote;

    public ReadOnlyMemory<byte> NegotiatedApplicationProtocol => _tls.NegotiatedApplicationProtocol;

    public X509Certificate2? RemoteCertificate => _tls.PeerCertificate;

    public string? ServerName => _tls.ServerName;

    public TimeSpan SmoothedRtt => _rtt.SmoothedRtt;

    /// <summary>The connection ID the client's first Initial was sent to (for the endpoint's routing).</summary>
    public ConnectionId OriginalDestinationConnectionId => _originalDestinationConnectionId;

    internal bool IsClosing => _state is ConnectionState.Closing or ConnectionState.Draining or ConnectionState.Drained;

    internal long CongestionWindow => _congestion.CongestionWindow;

    internal int KeyUpdatesSent { get; private set; }

    internal int KeyUpdatesReceived { get; private set; }

    public bool PollEvent(out ConnectionEvent connectionEvent)
    {
        if (_events.TryDequeue(out connectionEvent))
        {
            return true;
        }

        while (_streams.TryDequeueEvent(out connectionEvent))
        {
            return true;
        }

        return false;
    }

    public bool PollEndpointEvent(out EndpointEvent endpointEvent) => _endpointEvents.TryDequeue(out endpointEvent);

    public void Dispose()
    {
        foreach (PacketSpace space in _spaces)
        {
            space.Dispose();
        }

        _oneRtt?.Dispose();
        _tls.Dispose();
    }

    private TransportParameters BuildLocalParameters(ConnectionId localId, StreamLimits local)
    {
        var parameters = new TransportParameters
        {
            MaxIdleTimeoutMs = (ulong)_options.IdleTimeout.TotalMilliseconds,
            MaxUdpPayloadSize = (ulong)_options.MaxUdpPayloadSize,
            InitialMaxData = local.MaxData,
            InitialMaxStreamDataBidiLocal = local.MaxStreamDataBidiLocal,
            InitialMaxStreamDataBidiRemote = local.MaxStreamDataBidiRemote,
            InitialMaxStreamDataUni = local.MaxStreamDataUni,
            InitialMaxStreamsBidi = local.MaxStreamsBidi,
            InitialMaxStreamsUni = local.MaxStreamsUni,
            AckDelayExponent = (ulong)_options.AckDelayExponent,
            MaxAckDelayMs = (ulong)_options.MaxAckDelay.TotalMilliseconds,
            ActiveConnectionIdLimit = (ulong)_options.ActiveConnectionIdLimit,
            InitialSourceConnectionId = localId,
        };

        if (!IsClient)
        {
            parameters.OriginalDestinationConnectionId = _originalDestinationConnectionId;
            parameters.RetrySourceConnectionId = _retrySourceConnectionId;
            if (_localIds[0].ResetToken is { } token)
            {
                parameters.StatelessResetToken = token;
            }
        }

        return parameters;
    }

    private void InstallInitialKeys(byte[] clientSecret, byte[] serverSecret)
    {
        PacketSpace initial = _spaces[(int)EncryptionLevel.Initial];
        if (IsClient)
        {
            initial.InstallKeys(CipherSuite.Aes128GcmSha256, clientSecret, serverSecret);
        }
        else
        {
            initial.InstallKeys(CipherSuite.Aes128GcmSha256, serverSecret, clientSecret);
        }
    }

    private enum ConnectionState
    {
        Handshaking,
        Established,
        Closing,
        Draining,
        Drained,
    }
}

using System.Net;
using System.Security.Cryptography.X509Certificates;
using Connet.Client.Peers;
using Connet.Client.Tunnels;
using Connet.Core.Certificates;
using Connet.Core.Protocol;
using Connet.Quic;
using Microsoft.Extensions.Logging;

namespace Connet.Client.Tests;

/// <summary>
/// Source (TcpSource) → its relay connection → <see cref="RelayStandIn"/> → the destination's relay connection →
/// the destination's PeerRequestServer → a TCP echo server; real QUIC and TCP sockets on 127.0.0.1. Both clients
/// connect with <see cref="RelayDialer"/>, so the relay authentication and the destination's relay encryption
/// negotiation run exactly as with a real relay.
/// </summary>
public sealed class RelayEncryptionTests
{
    private const int TenMebibytes = 10 * 1024 * 1024;

    [Theory]
    [InlineData(ConnetRelayEncryption.None)]
    [InlineData(ConnetRelayEncryption.Tls)]
    [InlineData(ConnetRelayEncryption.Dhxcp)]
    public async Task Ten_mebibytes_cross_the_relay_byte_identical_both_ways(ConnetRelayEncryption encryption)
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var setup = await RelayedPair.StartAsync([encryption], [encryption], timeout.Token);
        byte[] payload = TestKit.SeededPayload(42, TenMebibytes);

        byte[] echoed = await TestKit.TcpRoundTripAsync(setup.Source.LocalEndPoint, payload, timeout.Token);

        Assert.Equal(payload.Length, echoed.Length);
        Assert.True(payload.AsSpan().SequenceEqual(echoed), "the echoed bytes differ from the sent ones");

        // What the relay saw: the plaintext only without encryption.
        byte[] seen = Assert.Single(setup.Relay.SourceBytes);
        bool plaintextVisible = seen.AsSpan().IndexOf(payload.AsSpan(1000, 64)) >= 0;
        Assert.Equal(encryption == ConnetRelayEncryption.None, plaintextVisible);
    }

    [Theory]
    [InlineData(new[] { ConnetRelayEncryption.None, ConnetRelayEncryption.Dhxcp, ConnetRelayEncryption.Tls }, new[] { ConnetRelayEncryption.Dhxcp, ConnetRelayEncryption.Tls }, RelayEncryptionSchemeName.Tls)]
    [InlineData(new[] { ConnetRelayEncryption.None, ConnetRelayEncryption.Dhxcp }, new[] { ConnetRelayEncryption.Tls, ConnetRelayEncryption.Dhxcp, ConnetRelayEncryption.None }, RelayEncryptionSchemeName.Dhxcp)]
    [InlineData(new[] { ConnetRelayEncryption.None, ConnetRelayEncryption.Tls }, new[] { ConnetRelayEncryption.Dhxcp, ConnetRelayEncryption.None }, RelayEncryptionSchemeName.None)]
    internal void Destination_prefers_tls_then_dhxcp_then_none(ConnetRelayEncryption[] source, ConnetRelayEncryption[] destination, RelayEncryptionSchemeName expected)
    {
        var chosen = RelayEncryption.Select([.. source.Select(RelayEncryption.ToWire)], [.. destination.Select(RelayEncryption.ToWire)]);

        Assert.Equal((int)expected, (int?)chosen);
    }

    [Fact]
    public void An_empty_source_offer_counts_as_none() =>
        Assert.Equal(Core.Protocol.Wire.Peer.RelayEncryptionScheme.EncryptionNone, RelayEncryption.Select([], [Core.Protocol.Wire.Peer.RelayEncryptionScheme.EncryptionNone]));

    [Fact]
    public async Task Mismatched_lists_give_relay_encryption_error_naming_both_and_close_the_tcp_client()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var setup = await RelayedPair.StartAsync([ConnetRelayEncryption.Tls], [ConnetRelayEncryption.None, ConnetRelayEncryption.Dhxcp], timeout.Token);

        var refused = await Assert.ThrowsAsync<ConnetProtocolException>(async () => await PeerTunnel.OpenAsync(setup.SourceConnection, setup.SourceSettings, timeout.Token));
        byte[] echoed = await TestKit.TcpRoundTripAsync(setup.Source.LocalEndPoint, [1, 2, 3], timeout.Token);

        Assert.Equal(ConnetErrorCode.DestinationRelayEncryptionError, refused.Code);
        Assert.Contains("the source offers [tls], the destination accepts [none, dhxcp]", refused.Message, StringComparison.Ordinal);
        Assert.Empty(echoed);
        Assert.Contains(setup.SourceLogger.Entries, entry => entry.Level == LogLevel.Error && entry.Message.Contains(nameof(ConnetErrorCode.DestinationRelayEncryptionError), StringComparison.Ordinal));
        Assert.Equal(0, setup.Echo.Accepted);
    }

    [Fact]
    public async Task Tls_from_a_source_the_destination_does_not_know_is_refused_naming_it()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var setup = await RelayedPair.StartAsync([ConnetRelayEncryption.Tls], [ConnetRelayEncryption.Tls], timeout.Token, destinationKnowsSource: false);

        var refused = await Assert.ThrowsAsync<ConnetProtocolException>(async () => await PeerTunnel.OpenAsync(setup.SourceConnection, setup.SourceSettings, timeout.Token));

        Assert.Equal(ConnetErrorCode.DestinationRelayEncryptionError, refused.Code);
        Assert.Contains(setup.SourceCertificates.ServerName, refused.Message, StringComparison.Ordinal);
        Assert.Contains("not an announced peer", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dhxcp_key_time_signed_by_another_key_is_refused()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        using var impostor = PeerCertificates.Create();
        await using var setup = await RelayedPair.StartAsync([ConnetRelayEncryption.Dhxcp], [ConnetRelayEncryption.Dhxcp], timeout.Token, sourceAsAnnounced: impostor);

        var refused = await Assert.ThrowsAsync<ConnetProtocolException>(async () => await PeerTunnel.OpenAsync(setup.SourceConnection, setup.SourceSettings, timeout.Token));

        Assert.Equal(ConnetErrorCode.DestinationRelayEncryptionError, refused.Code);
        Assert.Contains("signature", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(10)]
    [InlineData(-10)]
    public async Task Dhxcp_key_time_ten_minutes_off_is_refused(int minutes)
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var setup = await RelayedPair.StartAsync(
            [ConnetRelayEncryption.Dhxcp], [ConnetRelayEncryption.Dhxcp], timeout.Token, sourceClock: new ShiftedTimeProvider(TimeSpan.FromMinutes(minutes)));

        var refused = await Assert.ThrowsAsync<ConnetProtocolException>(async () => await PeerTunnel.OpenAsync(setup.SourceConnection, setup.SourceSettings, timeout.Token));

        Assert.Equal(ConnetErrorCode.DestinationRelayEncryptionError, refused.Code);
        Assert.Contains(minutes > 0 ? "ahead of" : "behind", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Relay_refusing_the_authentication_fails_the_dial_with_its_reason()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var relay = new RelayStandIn();
        using var certificates = PeerCertificates.Create();
        await using var endpoint = QuicEndpoint.Bind(new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        var dialer = new RelayDialer(endpoint, string.Empty, "test");

        var refused = await Assert.ThrowsAsync<ConnetProtocolException>(async () => await dialer.DialAsync(certificates, relay.Describe("refuse"), timeout.Token));

        Assert.Equal(ConnetErrorCode.AuthenticationFailed, refused.Code);
        Assert.Contains("refused by the stand-in", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Relay_presenting_another_certificate_is_not_trusted()
    {
        using var timeout = new CancellationTokenSource(TestKit.Guard);
        await using var relay = new RelayStandIn();
        using var other = PeerCertificates.Create();
        using var certificates = PeerCertificates.Create();
        await using var endpoint = QuicEndpoint.Bind(new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        var dialer = new RelayDialer(endpoint, string.Empty, "test");
        var described = relay.Describe("source") with { ServerCertificate = X509CertificateLoader.LoadCertificate(other.Server.RawData) };

        var refused = await Assert.ThrowsAsync<ConnetProtocolException>(async () => await dialer.DialAsync(certificates, described, timeout.Token));

        Assert.Contains("not the one control announced", refused.Message, StringComparison.Ordinal);
    }

    internal enum RelayEncryptionSchemeName
    {
        None = 0,
        Tls = 1,
        Dhxcp = 2,
    }

    private sealed class ShiftedTimeProvider(TimeSpan shift) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => TimeProvider.System.GetUtcNow() + shift;
    }

    /// <summary>Both ends connected to one stand-in relay, the destination serving its relay connection, the source listening for TCP.</summary>
    private sealed class RelayedPair : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _owned = [];

        public RelayStandIn Relay { get; private set; } = null!;

        public TcpEchoServer Echo { get; private set; } = null!;

        public TcpSource Source { get; private set; } = null!;

        public PeerConnection SourceConnection { get; private set; } = null!;

        public RelayEncryptionSettings SourceSettings { get; private set; } = null!;

        public PeerCertificates SourceCertificates { get; private set; } = null!;

        public ListLogger SourceLogger { get; } = new();

        public ListLogger DestinationLogger { get; } = new();

        /// <param name="sourceAsAnnounced">The certificates the destination believes the source has (default: the real ones).</param>
        public static async Task<RelayedPair> StartAsync(
            ConnetRelayEncryption[] sourceEncryptions,
            ConnetRelayEncryption[] destinationEncryptions,
            CancellationToken cancellationToken,
            bool destinationKnowsSource = true,
            PeerCertificates? sourceAsAnnounced = null,
            TimeProvider? sourceClock = null)
        {
            var pair = new RelayedPair();
            try
            {
                await pair.InitializeAsync(sourceEncryptions, destinationEncryptions, destinationKnowsSource, sourceAsAnnounced, sourceClock, cancellationToken);
                return pair;
            }
            catch
            {
                await pair.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            for (int i = _owned.Count - 1; i >= 0; i--)
            {
                await _owned[i].DisposeAsync();
            }
        }

        private static RemotePeerCertificates AsAnnounced(PeerCertificates certificates) =>
            new(X509CertificateLoader.LoadCertificate(certificates.Server.RawData), X509CertificateLoader.LoadCertificate(certificates.Client.RawData));

        private async Task InitializeAsync(
            ConnetRelayEncryption[] sourceEncryptions,
            ConnetRelayEncryption[] destinationEncryptions,
            bool destinationKnowsSource,
            PeerCertificates? sourceAsAnnounced,
            TimeProvider? sourceClock,
            CancellationToken cancellationToken)
        {
            Echo = new TcpEchoServer();
            _owned.Add(Echo);
            Relay = new RelayStandIn();
            _owned.Add(Relay);
            var sourceCertificates = PeerCertificates.Create();
            var destinationCertificates = PeerCertificates.Create();
            _owned.Add(new DisposeAction(() => { sourceCertificates.Dispose(); destinationCertificates.Dispose(); }));
            SourceCertificates = sourceCertificates;

            RemotePeerCertificates sourceAnnounced = AsAnnounced(sourceAsAnnounced ?? sourceCertificates);
            RemotePeerCertificates destinationAnnounced = AsAnnounced(destinationCertificates);
            var destinationSettings = new RelayEncryptionSettings(
                destinationCertificates,
                destinationEncryptions,
                name => destinationKnowsSource && name == sourceCertificates.ServerName ? sourceAnnounced : null,
                TimeProvider.System);
            SourceSettings = new RelayEncryptionSettings(
                sourceCertificates,
                sourceEncryptions,
                name => name == destinationCertificates.ServerName ? destinationAnnounced : null,
                sourceClock ?? TimeProvider.System);

            var destinationEndpoint = QuicEndpoint.Bind(new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
            _owned.Add(destinationEndpoint);
            var requests = new PeerRequestServer(TcpDestination.Dialer(Echo.Url), DestinationLogger, relayEncryption: destinationSettings);
            _owned.Add(requests);
            PeerConnection destinationConnection = await new RelayDialer(destinationEndpoint, string.Empty, "test", DestinationLogger)
                .DialAsync(destinationCertificates, Relay.Describe("destination"), cancellationToken);
            _owned.Add(destinationConnection);
            requests.Serve(destinationConnection);

            var sourceEndpoint = QuicEndpoint.Bind(new QuicEndpointOptions { LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
            _owned.Add(sourceEndpoint);
            SourceConnection = await new RelayDialer(sourceEndpoint, string.Empty, "test", SourceLogger)
                .DialAsync(sourceCertificates, Relay.Describe("source"), cancellationToken);
            _owned.Add(SourceConnection);
            Assert.Equal(PeerConnectionDirection.Relay, SourceConnection.Direction);
            Source = await TcpSource.StartAsync("tcp://127.0.0.1:0", () => [SourceConnection], SourceLogger, relayEncryption: SourceSettings, cancellationToken: cancellationToken);
            _owned.Add(Source);
        }
    }

    private sealed class DisposeAction(Action action) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            action();
            return ValueTask.CompletedTask;
        }
    }
}

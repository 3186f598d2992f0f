using System.Buffers.Binary;
using System.Net;
using Connet.Quic.Core;
using Connet.Quic.Core.Connection;
using Connet.Quic.Core.Endpoint;

namespace Connet.Quic.Tests.Endpoint;

public class EndpointCoreTests
{
    private static readonly IPEndPoint Client = new(IPAddress.Parse("192.0.2.1"), 4433);
    private static readonly IPEndPoint OtherClient = new(IPAddress.Parse("192.0.2.2"), 4433);
    private static readonly byte[] ClientDcid = [1, 2, 3, 4, 5, 6, 7, 8];
    private static readonly byte[] ClientScid = [9, 9, 9, 9];
    private static readonly Instant Now = new(1_000_000);

    private readonly byte[] _response = new byte[EndpointCore.MaxResponseLength];

    private static EndpointCore Create(bool listening = true, bool requireRetry = false, byte[]? resetKey = null, int backlog = 512) =>
        new(new EndpointCoreOptions
        {
            IsListening = listening,
            RequireRetry = requireRetry,
            StatelessResetKey = resetKey,
            AcceptBacklog = backlog,
            Random = RandomSource.Seeded(7),
        });

    [Fact]
    public void Unknown_version_gets_version_negotiation_listing_v1_with_ids_swapped()
    {
        using EndpointCore core = Create();
        byte[] datagram = EndpointTestPackets.LongHeader(0x1a2a3a4a, ClientDcid, ClientScid, 1200);

        EndpointResult result = core.Handle(Now, Client, datagram, _response);

        Assert.Equal(EndpointResultKind.Response, result.Kind);
        ReadOnlySpan<byte> vn = _response.AsSpan(0, result.ResponseLength);
        Assert.Equal(0x80, vn[0] & 0x80);
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32BigEndian(vn[1..]));
        Assert.Equal(ClientScid, vn.Slice(6, vn[5]).ToArray());
        int scidOffset = 6 + vn[5];
        Assert.Equal(ClientDcid, vn.Slice(scidOffset + 1, vn[scidOffset]).ToArray());
        ReadOnlySpan<byte> versions = vn[(scidOffset + 1 + vn[scidOffset])..];
        Assert.Equal(4, versions.Length);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32BigEndian(versions));
    }

    [Fact]
    public void Unknown_version_is_not_answered_when_small_or_not_listening_or_itself_a_VN()
    {
        using EndpointCore core = Create();
        using EndpointCore client = Create(listening: false);

        Assert.Equal(EndpointResultKind.Dropped, core.Handle(Now, Client, EndpointTestPackets.LongHeader(0x1a2a3a4a, ClientDcid, ClientScid, 1199), _response).Kind);
        Assert.Equal(EndpointResultKind.Dropped, client.Handle(Now, Client, EndpointTestPackets.LongHeader(0x1a2a3a4a, ClientDcid, ClientScid, 1200), _response).Kind);
        Assert.Equal(EndpointResultKind.Dropped, core.Handle(Now, Client, EndpointTestPackets.LongHeader(0, ClientDcid, ClientScid, 1200), _response).Kind);
    }

    [Fact]
    public void Initial_without_retry_creates_a_connection_routed_by_its_dcid_until_the_handshake_completes()
    {
        using EndpointCore core = Create();

        EndpointResult result = core.Handle(Now, Client, EndpointTestPackets.Initial(ClientDcid, ClientScid), _response);

        Assert.Equal(EndpointResultKind.NewConnection, result.Kind);
        Assert.Equal(new ConnectionId(ClientDcid), result.Accept.OriginalDestinationConnectionId);
        Assert.Null(result.Accept.RetrySourceConnectionId);
        Assert.False(result.Accept.AddressValidated);
        Assert.Equal(1, core.PendingAcceptCount);

        EndpointResult again = core.Handle(Now, Client, EndpointTestPackets.Initial(ClientDcid, ClientScid), _response);
        Assert.Equal(EndpointResultKind.Routed, again.Kind);
        Assert.Equal(result.Handle, again.Handle);

        core.OnHandshakeCompleted(result.Handle);
        Assert.False(core.TryGetRoute(new ConnectionId(ClientDcid), out _));
    }

    [Theory]
    [InlineData(1199, 8)]
    [InlineData(1200, 7)]
    public void Initial_that_is_too_small_or_has_a_short_dcid_is_dropped(int size, int dcidLength)
    {
        using EndpointCore core = Create();

        EndpointResult result = core.Handle(Now, Client, EndpointTestPackets.Initial(new byte[dcidLength], ClientScid, size), _response);

        Assert.Equal(EndpointResultKind.Dropped, result.Kind);
        Assert.Equal(0, core.ConnectionCount);
    }

    [Fact]
    public void Initial_is_dropped_when_not_listening_or_the_backlog_is_full_until_one_is_accepted()
    {
        using EndpointCore client = Create(listening: false);
        Assert.Equal(EndpointResultKind.Dropped, client.Handle(Now, Client, EndpointTestPackets.Initial(ClientDcid, ClientScid), _response).Kind);

        using EndpointCore core = Create(backlog: 1);
        EndpointResult first = core.Handle(Now, Client, EndpointTestPackets.Initial(ClientDcid, ClientScid), _response);
        Assert.Equal(EndpointResultKind.NewConnection, first.Kind);
        byte[] otherDcid = [8, 7, 6, 5, 4, 3, 2, 1];
        Assert.Equal(EndpointResultKind.Dropped, core.Handle(Now, Client, EndpointTestPackets.Initial(otherDcid, ClientScid), _response).Kind);

        core.OnAccepted(first.Handle);
        Assert.Equal(EndpointResultKind.NewConnection, core.Handle(Now, Client, EndpointTestPackets.Initial(otherDcid, ClientScid), _response).Kind);
    }

    [Fact]
    public void RequireRetry_sends_a_valid_retry_and_accepts_its_token_on_the_next_initial()
    {
        using EndpointCore core = Create(requireRetry: true);

        EndpointResult retryResult = core.Handle(Now, Client, EndpointTestPackets.Initial(ClientDcid, ClientScid), _response);

        Assert.Equal(EndpointResultKind.Response, retryResult.Kind);
        Assert.Equal(0, core.ConnectionCount);
        byte[] retry = _response[..retryResult.ResponseLength];
        Assert.True(Connet.Quic.Core.Crypto.RetryIntegrity.Verify(ClientDcid, retry));
        (byte[] retryDcid, byte[] retryScid, byte[] token) = EndpointTestPackets.ParseRetry(retry);
        Assert.Equal(ClientScid, retryDcid);
        Assert.True(retryScid.Length >= 8);
        Assert.NotEmpty(token);

        EndpointResult accepted = core.Handle(Now + TimeSpan.FromSeconds(1), Client, EndpointTestPackets.Initial(retryScid, ClientScid, token: token), _response);

        Assert.Equal(EndpointResultKind.NewConnection, accepted.Kind);
        Assert.Equal(new ConnectionId(ClientDcid), accepted.Accept.OriginalDestinationConnectionId);
        Assert.Equal(new ConnectionId(retryScid), accepted.Accept.RetrySourceConnectionId);
        Assert.True(accepted.Accept.AddressValidated);
        Assert.True(core.TryGetRoute(new ConnectionId(retryScid), out ConnectionHandle routed));
        Assert.Equal(accepted.Handle, routed);
    }

    public static TheoryData<string> BadTokenCases => ["forged", "other-address", "expired", "other-dcid"];

    [Theory]
    [MemberData(nameof(BadTokenCases))]
    public void Bad_retry_token_is_dropped(string badness)
    {
        using EndpointCore core = Create(requireRetry: true);
        EndpointResult retryResult = core.Handle(Now, Client, EndpointTestPackets.Initial(ClientDcid, ClientScid), _response);
        (_, byte[] retryScid, byte[] token) = EndpointTestPackets.ParseRetry(_response.AsSpan(0, retryResult.ResponseLength));
        IPEndPoint from = Client;
        Instant when = Now;
        byte[] dcid = retryScid;
        switch (badness)
        {
            case "forged":
                token[^3] ^= 0x40;
                break;
            case "other-address":
                from = OtherClient;
                break;
            case "expired":
                when = Now + TimeSpan.FromMinutes(1);
                break;
            default:
                dcid = ClientDcid;
                break;
        }

        EndpointResult result = core.Handle(when, from, EndpointTestPackets.Initial(dcid, ClientScid, token: token), _response);

        Assert.Equal(EndpointResultKind.Dropped, result.Kind);
        Assert.Equal(0, core.ConnectionCount);
    }

    [Fact]
    public void Unknown_short_header_gets_a_stateless_reset_with_the_derived_token()
    {
        byte[] key = new byte[32];
        key[0] = 42;
        using EndpointCore core = Create(resetKey: key);
        byte[] unknownDcid = [0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF, 0x11, 0x22];

        EndpointResult result = core.Handle(Now, Client, EndpointTestPackets.ShortHeader(unknownDcid, 100), _response);

        Assert.Equal(EndpointResultKind.Response, result.Kind);
        Assert.InRange(result.ResponseLength, 21, 99);
        ReadOnlySpan<byte> reset = _response.AsSpan(0, result.ResponseLength);
        Assert.Equal(0x40, reset[0] & 0xC0);
        byte[] expectedToken = new byte[16];
        StatelessResetToken.Derive(key, unknownDcid).CopyTo(expectedToken);
        Assert.Equal(expectedToken, reset[^16..].ToArray());
    }

    [Fact]
    public void Stateless_reset_is_always_shorter_than_its_trigger_and_never_answers_tiny_packets()
    {
        using EndpointCore core = Create(resetKey: new byte[32]);
        byte[] dcid = new byte[8];

        Assert.Equal(EndpointResultKind.Dropped, core.Handle(Now, Client, EndpointTestPackets.ShortHeader(dcid, 42), _response).Kind);
        for (int size = 43; size < 60; size++)
        {
            EndpointResult result = core.Handle(Now + TimeSpan.FromSeconds(size), Client, EndpointTestPackets.ShortHeader(dcid, size), _response);
            Assert.Equal(EndpointResultKind.Response, result.Kind);
            Assert.InRange(result.ResponseLength, 21, size - 1);
        }
    }

    [Fact]
    public void Stateless_resets_are_rate_limited_and_need_a_key()
    {
        using EndpointCore withoutKey = Create();
        Assert.Equal(EndpointResultKind.Dropped, withoutKey.Handle(Now, Client, EndpointTestPackets.ShortHeader(new byte[8], 100), _response).Kind);

        using EndpointCore core = Create(resetKey: new byte[32]);
        int sent = 0;
        for (int i = 0; i < 1000; i++)
        {
            if (core.Handle(Now, Client, EndpointTestPackets.ShortHeader(new byte[8], 100), _response).Kind == EndpointResultKind.Response)
            {
                sent++;
            }
        }

        Assert.Equal(core.Options.MaxStatelessResetsPerSecond, sent);
        Assert.Equal(EndpointResultKind.Response, core.Handle(Now + TimeSpan.FromSeconds(1), Client, EndpointTestPackets.ShortHeader(new byte[8], 100), _response).Kind);
    }

    [Theory]
    [InlineData(new byte[] { 0x00, 0x80, 0x00, 0x00 })]
    [InlineData(new byte[] { 0x80, 0x00, 0x00, 0x00, 0x01, 0x00 })]
    public void Datagram_with_the_fixed_bit_clear_is_raw(byte[] datagram)
    {
        using EndpointCore core = Create();

        Assert.Equal(EndpointResultKind.Raw, core.Handle(Now, Client, datagram, _response).Kind);
    }

    [Fact]
    public void Routes_follow_the_connection_endpoint_events()
    {
        using EndpointCore core = Create(resetKey: new byte[32]);
        ConnectionHandle handle = core.AddConnection();
        var first = new ConnectionId([1, 1, 1, 1, 1, 1, 1, 1]);
        var second = new ConnectionId([2, 2, 2, 2, 2, 2, 2, 2]);

        Assert.True(core.ApplyEndpointEvent(handle, new EndpointEvent(EndpointEventKind.ConnectionIdIssued, first)));
        Assert.True(core.ApplyEndpointEvent(handle, new EndpointEvent(EndpointEventKind.ConnectionIdIssued, second)));
        EndpointResult routed = core.Handle(Now, Client, EndpointTestPackets.ShortHeader(first.ToArray(), 30), _response);
        Assert.Equal(EndpointResultKind.Routed, routed.Kind);
        Assert.Equal(handle, routed.Handle);

        core.ApplyEndpointEvent(handle, new EndpointEvent(EndpointEventKind.ConnectionIdRetired, first));
        Assert.Equal(EndpointResultKind.Response, core.Handle(Now, Client, EndpointTestPackets.ShortHeader(first.ToArray(), 60), _response).Kind);
        Assert.Equal(EndpointResultKind.Routed, core.Handle(Now, Client, EndpointTestPackets.ShortHeader(second.ToArray(), 60), _response).Kind);

        Assert.False(core.ApplyEndpointEvent(handle, new EndpointEvent(EndpointEventKind.Drained)));
        Assert.False(core.TryGetRoute(second, out _));
        Assert.Equal(0, core.ConnectionCount);
    }

    [Fact]
    public void Garbage_never_throws()
    {
        using EndpointCore core = Create(requireRetry: true, resetKey: new byte[32]);
        var random = new Random(1234);
        byte[] valid = EndpointTestPackets.Initial(ClientDcid, ClientScid);
        byte[] buffer = new byte[1500];
        byte[] firstBytes = [0x00, 0x40, 0x80, 0xC0, 0xF0, 0xFF];
        for (int i = 0; i < 5000; i++)
        {
            int length = random.Next(0, buffer.Length + 1);
            Span<byte> datagram = buffer.AsSpan(0, length);
            if (i % 2 == 0)
            {
                random.NextBytes(datagram);
                if (length > 0)
                {
                    datagram[0] = (byte)(firstBytes[random.Next(firstBytes.Length)] | (datagram[0] & 0x0F));
                }

                if (length > 5 && i % 4 == 0)
                {
                    BinaryPrimitives.WriteUInt32BigEndian(datagram[1..], 1);
                }
            }
            else
            {
                // A valid Initial with a few bytes of its header corrupted and its tail cut at random.
                length = Math.Min(length, valid.Length);
                datagram = buffer.AsSpan(0, length);
                valid.AsSpan(0, length).CopyTo(datagram);
                for (int flips = 0; flips < 3 && length > 0; flips++)
                {
                    datagram[random.Next(Math.Min(length, 40))] = (byte)random.Next(256);
                }
            }

            _ = core.Handle(Now, Client, datagram, _response);
        }
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Tests.Api;

namespace Connet.Quic.Tests.Fuzz;

/// <summary>Minimal reproductions of what the endpoint fuzzing found, one datagram each, against a live connection.</summary>
public sealed class HostileCoalescedPacketTests : IDisposable
{
    private const int ServerConnectionIdLength = 8;

    private readonly X509Certificate2 _certificate = LoopbackKit.CreateSelfSigned("localhost");

    public void Dispose() => _certificate.Dispose();

    [Fact]
    public async Task Coalesced_packet_of_unknown_version_with_a_long_connection_id_is_ignored_not_fatal()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        CancellationToken cancellationToken = timeout.Token;
        var errors = new ErrorCollectingLoggerFactory();
        QuicEndpointOptions serverOptions = LoopbackKit.ListeningEndpoint(_certificate);
        serverOptions.ConnectionIdLength = ServerConnectionIdLength;
        serverOptions.LoggerFactory = errors;
        await using QuicEndpoint server = QuicEndpoint.Bind(serverOptions);
        await using var relay = new CapturingRelay(server.LocalEndPoint);
        Task<QuicConnection> accepting = server.AcceptConnectionAsync(cancellationToken).AsTask();
        await using QuicConnection client = await QuicConnection.ConnectAsync(LoopbackKit.ClientOptions(relay.LocalEndPoint, _certificate), cancellationToken);
        await using QuicConnection accepted = await accepting;
        Task echo = LoopbackKit.EchoStreamsAsync(accepted, cancellationToken);
        byte[] first = LoopbackKit.SeededPayload(1, 2000);
        Assert.Equal(first, await LoopbackKit.RoundTripAsync(client, first, cancellationToken));
        byte[] shortHeader = relay.CapturedFromClient.Last(datagram => (datagram[0] & 0x80) == 0);

        relay.InjectToServer(HandshakeThenUnknownVersionWithLongConnectionId(shortHeader.AsSpan(1, ServerConnectionIdLength)));

        // The endpoint handles datagrams in arrival order on one thread: this round trip comes after the injected one.
        byte[] second = LoopbackKit.SeededPayload(2, 2000);
        byte[]? echoed = null;
        Exception? failure = await Record.ExceptionAsync(async () => echoed = await LoopbackKit.RoundTripAsync(client, second, cancellationToken));

        // What the server logged says why; check it first so a failure names the cause, not just the symptom.
        Assert.True(errors.Errors.IsEmpty, string.Join("\n----\n", errors.Errors));
        Assert.Null(failure);
        Assert.Equal(second, echoed);
    }

    /// <summary>
    /// A Handshake packet routed to the server's connection (its DCID is one the server issued), coalesced with a
    /// long-header packet of an unknown version whose DCID is 40 bytes (legal in the version-independent header).
    /// </summary>
    private static byte[] HandshakeThenUnknownVersionWithLongConnectionId(ReadOnlySpan<byte> serverConnectionId)
    {
        var datagram = new List<byte> { 0xE0 };
        datagram.AddRange(Version(1));
        datagram.Add((byte)serverConnectionId.Length);
        datagram.AddRange(serverConnectionId.ToArray());
        datagram.Add(0); // empty SCID
        datagram.AddRange(new byte[] { 0x40, 32 }); // Length: 32 bytes of packet number and payload
        datagram.AddRange(new byte[32]);

        datagram.Add(0xC0);
        datagram.AddRange(Version(0x1A2A3A4A));
        datagram.Add(40);
        datagram.AddRange(Enumerable.Repeat((byte)0x5A, 40));
        datagram.Add(0); // empty SCID
        datagram.AddRange(new byte[30]);
        return [.. datagram];
    }

    private static byte[] Version(uint version)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, version);
        return bytes;
    }
}

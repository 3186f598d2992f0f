using System.Net;
using Connet.Quic.Core;
using Connet.Quic.Core.Connection;
using Connet.Quic.Core.Packets;

namespace Connet.Quic.Tests.Simulation;

public class ConnectionSimulationTests
{
    private static byte[] Payload(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static void Handshake(SimulatedNetwork net)
    {
        Assert.True(net.RunUntil(() => net.Client.IsHandshakeComplete && net.Server is { IsHandshakeComplete: true }), "handshake did not complete");
    }

    [Fact]
    public void Handshake_completes_with_agreed_protocol_and_pinned_certificate()
    {
        using var net = new SimulatedNetwork();
        Handshake(net);

        Assert.Equal(SimulatedNetwork.Alpn.Protocol.ToArray(), net.Client.NegotiatedApplicationProtocol.ToArray());
        Assert.Equal(SimulatedNetwork.Alpn.Protocol.ToArray(), net.Server!.NegotiatedApplicationProtocol.ToArray());
        Assert.Equal(TestCertificates.Server.RawData, net.Client.RemoteCertificate!.RawData);
        Assert.Equal("localhost", net.Server.ServerName);
        Assert.Contains(net.ClientEvents, e => e.Kind == ConnectionEventKind.HandshakeCompleted);
        Assert.Contains(net.ServerEvents, e => e.Kind == ConnectionEventKind.HandshakeCompleted);
        Assert.True(net.Client.SmoothedRtt > TimeSpan.Zero);
    }

    [Fact]
    public void Ten_mebibytes_each_way_arrive_intact_over_loss_reordering_and_duplication()
    {
        using var net = new SimulatedNetwork(seed: 7) { LossRate = 0.10, ReorderRate = 0.10, DuplicateRate = 0.05, Latency = TimeSpan.FromMilliseconds(5) };
        Handshake(net);
        Assert.True(net.Client.TryOpenStream(bidirectional: true, out long id));

        byte[] up = Payload(10 * 1024 * 1024, 1);
        byte[] down = Payload(10 * 1024 * 1024, 2);
        var upload = new StreamPump(net.Client, net.Server!, id, up, net.ServerEvents);
        var download = new StreamPump(net.Server!, net.Client, id, down, writerEvents: net.ServerEvents);

        bool done = net.RunUntil(() =>
        {
            upload.Pump();
            download.Pump();
            return upload.Done && download.Done;
        }, maxSteps: 2_000_000);

        Assert.True(done, $"transfer stalled: up {upload.ReceivedLength}, down {download.ReceivedLength}");
        Assert.Equal(up, upload.Received);
        Assert.Equal(down, download.Received);
    }

    [Fact]
    public void A_writer_stalled_by_flow_control_resumes_when_the_reader_consumes()
    {
        var small = new ConnectionOptions { StreamReceiveWindow = 16 * 1024, ConnectionReceiveWindow = 32 * 1024, Random = RandomSource.Seeded(3) };
        using var net = new SimulatedNetwork(seed: 3, serverOptions: () => small);
        Handshake(net);
        Assert.True(net.Client.TryOpenStream(true, out long id));
        byte[] payload = Payload(256 * 1024, 3);

        int written = net.Client.WriteStream(id, payload, fin: true);
        net.RunFor(TimeSpan.FromSeconds(1));
        written += net.Client.WriteStream(id, payload.AsSpan(written), fin: true);
        Assert.Equal(16 * 1024, written);

        // Nobody reads on the server: only the advertised window can have been delivered.
        byte[] buffer = new byte[payload.Length];
        int before = net.Server!.ReadStream(id, buffer, out bool finEarly);
        Assert.InRange(before, 1, 16 * 1024);
        Assert.False(finEarly);

        var received = new MemoryStream();
        received.Write(buffer, 0, before);
        bool fin = false;
        Assert.True(net.RunUntil(() =>
        {
            written += net.Client.WriteStream(id, payload.AsSpan(written), fin: true);
            int n = net.Server.ReadStream(id, buffer, out bool f);
            received.Write(buffer, 0, n);
            fin |= f;
            return fin;
        }), $"stalled after {received.Length} bytes, {written} written; client {net.Client.CloseInfo}, server {net.Server.CloseInfo}");
        Assert.Equal(payload, received.ToArray());
    }

    [Fact]
    public void A_thousand_concurrent_streams_each_deliver_their_bytes()
    {
        var manyStreams = new ConnectionOptions { MaxInboundBidirectionalStreams = 1000, Random = RandomSource.Seeded(5) };
        using var net = new SimulatedNetwork(seed: 5, serverOptions: () => manyStreams) { LossRate = 0.02 };
        Handshake(net);

        var pumps = new List<StreamPump>();
        for (int i = 0; i < 1000; i++)
        {
            Assert.True(net.Client.TryOpenStream(true, out long id), $"stream {i} could not be opened");
            pumps.Add(new StreamPump(net.Client, net.Server!, id, Payload(1000 + i, i), net.ServerEvents));
        }

        Assert.True(net.RunUntil(() =>
        {
            bool all = true;
            foreach (StreamPump pump in pumps)
            {
                pump.Pump();
                all &= pump.Done;
            }

            return all;
        }, maxSteps: 500_000));

        for (int i = 0; i < pumps.Count; i++)
        {
            Assert.Equal(Payload(1000 + i, i), pumps[i].Received);
        }

        Assert.Equal(1000, net.ServerEvents.Count(e => e.Kind == ConnectionEventKind.StreamOpened));
    }

    [Fact]
    public void An_idle_connection_times_out_on_both_sides()
    {
        var options = new ConnectionOptions { IdleTimeout = TimeSpan.FromSeconds(5), Random = RandomSource.Seeded(9) };
        using var net = new SimulatedNetwork(seed: 9, clientOptions: options, serverOptions: () => new ConnectionOptions { IdleTimeout = TimeSpan.FromSeconds(5) });
        Handshake(net);
        Instant start = net.Now;

        Assert.True(net.RunUntil(() => net.Client.IsDrained && net.Server!.IsDrained));
        Assert.Equal(ConnectionCloseReason.IdleTimeout, net.Client.CloseInfo!.Reason);
        Assert.Equal(ConnectionCloseReason.IdleTimeout, net.Server!.CloseInfo!.Reason);
        Assert.InRange(net.Now - start, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(7));
    }

    [Fact]
    public void Keep_alive_holds_an_idle_connection_open()
    {
        var options = new ConnectionOptions { IdleTimeout = TimeSpan.FromSeconds(5), KeepAliveInterval = TimeSpan.FromSeconds(2), Random = RandomSource.Seeded(10) };
        using var net = new SimulatedNetwork(seed: 10, clientOptions: options, serverOptions: () => new ConnectionOptions { IdleTimeout = TimeSpan.FromSeconds(5) });
        Handshake(net);

        net.RunFor(TimeSpan.FromSeconds(30));
        Assert.False(net.Client.IsClosing);
        Assert.False(net.Server!.IsClosing);
    }

    [Fact]
    public void Keys_update_mid_transfer_without_losing_data()
    {
        using var net = new SimulatedNetwork(seed: 11) { LossRate = 0.02, ReorderRate = 0.05 };
        Handshake(net);
        Assert.True(net.Client.TryOpenStream(true, out long id));
        byte[] payload = Payload(2 * 1024 * 1024, 11);
        var pump = new StreamPump(net.Client, net.Server!, id, payload, net.ServerEvents);

        int updates = 0;
        Assert.True(net.RunUntil(() =>
        {
            pump.Pump();
            if (pump.ReceivedLength > (updates + 1) * 512 * 1024 && net.Client.InitiateKeyUpdate())
            {
                updates++;
            }

            return pump.Done;
        }, maxSteps: 1_000_000));

        Assert.Equal(payload, pump.Received);
        Assert.True(updates >= 2, $"only {updates} key updates happened");
        Assert.Equal(updates, net.Server!.KeyUpdatesReceived);
    }

    [Fact]
    public void A_rebinding_client_is_followed_after_path_validation()
    {
        using var net = new SimulatedNetwork(seed: 12);
        Handshake(net);
        Assert.True(net.RunUntil(() => net.ClientEvents.Any(e => e.Kind == ConnectionEventKind.HandshakeCompleted) && net.Server!.PollTimeout() != Instant.Never));
        net.RunFor(TimeSpan.FromMilliseconds(200));
        Assert.True(net.Client.TryOpenStream(true, out long id));

        // The NAT in front of the client picks a new port mid-connection.
        net.ClientAddress = new IPEndPoint(IPAddress.Parse("198.18.0.1"), 40001);
        byte[] payload = Payload(256 * 1024, 12);
        var upload = new StreamPump(net.Client, net.Server!, id, payload, net.ServerEvents);
        var download = new StreamPump(net.Server!, net.Client, id, payload, writerEvents: net.ServerEvents);
        Assert.True(net.RunUntil(() =>
        {
            upload.Pump();
            download.Pump();
            return upload.Done && download.Done;
        }));

        Assert.Equal(payload, upload.Received);
        Assert.Equal(payload, download.Received);
        Assert.Equal(net.ClientAddress, net.Server!.RemoteEndPoint);
        Assert.Equal(1, net.Server.PathValidations);
    }

    [Fact]
    public void An_application_close_code_and_reason_reach_the_peer()
    {
        using var net = new SimulatedNetwork(seed: 13);
        Handshake(net);
        net.Client.Close(net.Now, 42, "done here");

        Assert.True(net.RunUntil(() => net.Server!.CloseInfo is not null));
        ConnectionCloseInfo info = net.Server!.CloseInfo!;
        Assert.Equal(ConnectionCloseReason.PeerApplication, info.Reason);
        Assert.Equal(42UL, info.ErrorCode);
        Assert.Equal("done here", info.Message);
        Assert.True(net.RunUntil(() => net.Client.IsDrained && net.Server.IsDrained));
    }

    [Fact]
    public void A_wrong_pin_fails_the_handshake_with_a_certificate_alert_at_the_server()
    {
        var tls = SimulatedNetwork.DefaultClientTls();
        tls.Authentication.RemoteCertificateValidationCallback = TestCertificates.Pin(TestCertificates.Impostor);
        using var net = new SimulatedNetwork(seed: 14, clientTls: tls);

        Assert.True(net.RunUntil(() => net.Server?.CloseInfo is not null));
        Assert.False(net.Client.IsHandshakeComplete);
        Assert.Equal(ConnectionCloseReason.LocalTransport, net.Client.CloseInfo!.Reason);
        Assert.Equal(0x100UL + 42, net.Client.CloseInfo.ErrorCode);
        Assert.Equal(ConnectionCloseReason.PeerTransport, net.Server!.CloseInfo!.Reason);
        Assert.Equal(0x100UL + 42, net.Server.CloseInfo.ErrorCode);
    }

    [Fact]
    public void A_server_acts_on_early_one_rtt_data_only_after_the_client_finished()
    {
        using var net = new SimulatedNetwork(seed: 15);
        bool droppedFinished = false;

        // Lose the client's first Handshake flight (its Finished), so its 1-RTT stream data reaches the server first.
        net.DropClientDatagram = datagram =>
        {
            if (!droppedFinished && CarriesHandshakePacket(datagram))
            {
                droppedFinished = true;
                return true;
            }

            return false;
        };

        Assert.True(net.RunUntil(() => net.Client.IsHandshakeComplete));
        Assert.True(net.Client.TryOpenStream(true, out long id));
        byte[] payload = Payload(4096, 15);
        var pump = new StreamPump(net.Client, net.Server!, id, payload, net.ServerEvents);
        Assert.True(net.RunUntil(() =>
        {
            pump.Pump();
            return pump.Done;
        }));

        Assert.True(droppedFinished);
        Assert.Equal(payload, pump.Received);
        int completed = net.ServerEvents.FindIndex(e => e.Kind == ConnectionEventKind.HandshakeCompleted);
        int opened = net.ServerEvents.FindIndex(e => e.Kind == ConnectionEventKind.StreamOpened);
        Assert.InRange(completed, 0, opened - 1);
    }

    [Fact]
    public void A_client_ignores_datagrams_from_an_address_other_than_the_server()
    {
        using var net = new SimulatedNetwork(seed: 16);
        Handshake(net);
        byte[] garbage = new byte[1200];
        net.Client.HandleDatagram(net.Now, new IPEndPoint(IPAddress.Parse("198.18.9.9"), 443), garbage);
        Assert.Null(net.Client.CloseInfo);
        Assert.Equal(net.ServerAddress, net.Client.RemoteEndPoint);
    }

    [Theory]
    [InlineData(1500, 1452)]
    [InlineData(1300, 1200)]
    public void The_datagram_size_grows_only_when_the_path_carries_the_probe(int pathMtu, int expected)
    {
        using var net = new SimulatedNetwork(seed: 17) { PathMtu = pathMtu };
        Handshake(net);
        Assert.True(net.Client.TryOpenStream(true, out long id));
        byte[] payload = Payload(256 * 1024, 17);
        var pump = new StreamPump(net.Client, net.Server!, id, payload, net.ServerEvents);
        Assert.True(net.RunUntil(() =>
        {
            pump.Pump();
            return pump.Done;
        }));

        Assert.Equal(payload, pump.Received);
        Assert.Equal(expected, net.Client.MaxDatagramSize);
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public void A_rebinding_over_a_lossy_path_still_validates_and_keeps_the_data(int seed)
    {
        using var net = new SimulatedNetwork(seed) { LossRate = 0.15 };
        Handshake(net);
        net.RunFor(TimeSpan.FromMilliseconds(300));
        Assert.True(net.Client.TryOpenStream(true, out long id));
        net.ClientAddress = new IPEndPoint(IPAddress.Parse("198.18.0.1"), 40002);
        byte[] payload = Payload(512 * 1024, seed);
        var upload = new StreamPump(net.Client, net.Server!, id, payload, net.ServerEvents);

        Assert.True(net.RunUntil(() =>
        {
            upload.Pump();
            return upload.Done;
        }));

        Assert.Equal(payload, upload.Received);
        Assert.Equal(net.ClientAddress, net.Server!.RemoteEndPoint);
    }

    private static bool CarriesHandshakePacket(byte[] datagram)
    {
        int offset = 0;
        while (offset < datagram.Length && PacketParser.TryParse(datagram.AsSpan(offset), 8, out PacketHeader header))
        {
            if (header.Type == PacketType.Handshake)
            {
                return true;
            }

            offset += header.PacketLength;
        }

        return false;
    }
}

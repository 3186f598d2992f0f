using System.Net;
using Connet.Quic.Core;
using Connet.Quic.Core.Connection;
using Connet.Quic.Core.Packets;
using Xunit.Abstractions;

namespace Connet.Quic.Tests.Simulation;

public class ScratchDebug(ITestOutputHelper output)
{
    [Fact]
    public void Debug()
    {
        var now = new Instant(1_000_000);
        var client = Connection.CreateClient(new ConnectionOptions(), SimulatedNetwork.DefaultClientTls(), new IPEndPoint(IPAddress.Loopback, 1), now);
        byte[] buf = new byte[1500];
        int n = client.PollTransmit(now, buf, out _);
        output.WriteLine($"client sent {n}");
        PacketParser.TryParse(buf.AsSpan(0, n), 8, out PacketHeader h);
        var odcid = new ConnectionId(buf.AsSpan(h.DestinationConnectionIdOffset, h.DestinationConnectionIdLength));
        var server = Connection.CreateServer(new ConnectionOptions(), SimulatedNetwork.DefaultServerTls(), new IPEndPoint(IPAddress.Loopback, 2), odcid, null, false, now);
        server.HandleDatagram(now, new IPEndPoint(IPAddress.Loopback, 2), buf.AsSpan(0, n));
        output.WriteLine($"server close={server.CloseInfo}");
        int m = server.PollTransmit(now, buf, out _);
        output.WriteLine($"server sent {m} timeout {server.PollTimeout()}");
    }
}

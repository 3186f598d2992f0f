using System.Diagnostics.Metrics;

namespace Connet.Quic;

/// <summary>Process-wide counters of the stack under the meter "Connet.Quic".</summary>
internal static class QuicMetrics
{
    public const string MeterName = "Connet.Quic";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Counter<long> DatagramsSent = Meter.CreateCounter<long>("connet.quic.datagrams_sent", "{datagram}");
    private static readonly Counter<long> DatagramsReceived = Meter.CreateCounter<long>("connet.quic.datagrams_received", "{datagram}");
    private static readonly Counter<long> BytesSent = Meter.CreateCounter<long>("connet.quic.bytes_sent", "By");
    private static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>("connet.quic.bytes_received", "By");
    private static readonly Counter<long> ConnectionsOpened = Meter.CreateCounter<long>("connet.quic.connections_opened", "{connection}");
    private static readonly Counter<long> ConnectionsClosed = Meter.CreateCounter<long>("connet.quic.connections_closed", "{connection}");
    private static readonly Counter<long> HandshakeFailures = Meter.CreateCounter<long>("connet.quic.handshake_failures", "{connection}");

    public static void DatagramSent(int bytes)
    {
        DatagramsSent.Add(1);
        BytesSent.Add(bytes);
    }

    public static void DatagramReceived(int bytes)
    {
        DatagramsReceived.Add(1);
        BytesReceived.Add(bytes);
    }

    public static void ConnectionOpened() => ConnectionsOpened.Add(1);

    public static void ConnectionClosed() => ConnectionsClosed.Add(1);

    public static void HandshakeFailed() => HandshakeFailures.Add(1);
}

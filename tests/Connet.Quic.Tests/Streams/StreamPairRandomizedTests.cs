using Connet.Quic.Core.Connection;
using Connet.Quic.Core.Streams;
using static Connet.Quic.Tests.Streams.StreamTestKit;

namespace Connet.Quic.Tests.Streams;

/// <summary>
/// Two StreamManagers exchange "packets" through a lossy, reordering, duplicating link driven by a seeded RNG.
/// The client sends random payloads on streams of both kinds; the server echoes bidirectional ones. Every byte must
/// arrive intact, every stream must be freed on both sides, and the small limits force blocking and replenishment.
/// </summary>
public class StreamPairRandomizedTests
{
    private const int PacketBudget = 1200;

    private static readonly StreamLimits SmallLimits = new(
        MaxData: 9000, MaxStreamDataBidiLocal: 3000, MaxStreamDataBidiRemote: 2500, MaxStreamDataUni: 2000, MaxStreamsBidi: 2, MaxStreamsUni: 2);

    private sealed record Chunk(ulong StreamId, ulong Offset, byte[] Data, bool Fin);

    private sealed class Packet(bool fromClient)
    {
        public bool FromClient { get; } = fromClient;

        public List<ControlFrame> Controls { get; } = [];

        public List<Chunk> Chunks { get; } = [];
    }

    private sealed class OutgoingStream(byte[] payload)
    {
        public byte[] Payload { get; } = payload;

        public int Written { get; set; }

        public bool Finished { get; set; }

        public bool WritesCompleted { get; set; }

        public List<byte> Echo { get; } = [];

        public bool EchoFin { get; set; }

        public bool Released { get; set; }
    }

    private sealed class IncomingStream
    {
        public List<byte> Received { get; } = [];

        public bool Fin { get; set; }

        public int Echoed { get; set; }

        public bool EchoFinished { get; set; }

        public bool WritesCompleted { get; set; }

        public bool Released { get; set; }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void RandomTraffic_OverALossyReorderingLink_ArrivesByteIdentical(int seed)
    {
        var random = new Random(seed);
        var (client, server) = CreatePair(SmallLimits, SmallLimits, sendBufferCapacity: 5000);

        var plans = Enumerable.Range(0, 10)
            .Select(_ => (Bidirectional: random.Next(2) == 0, Payload: RandomBytes(random, random.Next(0, 12_000))))
            .ToList();
        int nextPlan = 0;
        var outgoing = new Dictionary<ulong, OutgoingStream>();
        var incoming = new Dictionary<ulong, IncomingStream>();
        var inFlight = new List<Packet>();
        var buffer = new byte[1500];

        int step;
        for (step = 0; step < 200_000; step++)
        {
            // Client application: open planned streams as limits allow, write, read echoes, release when done.
            while (nextPlan < plans.Count && client.TryOpen(plans[nextPlan].Bidirectional, out ulong opened))
            {
                outgoing.Add(opened, new OutgoingStream(plans[nextPlan].Payload));
                nextPlan++;
            }

            foreach (ConnectionEvent e in DrainEvents(client))
            {
                if (e.Kind == ConnectionEventKind.StreamWritesCompleted)
                {
                    outgoing[(ulong)e.StreamId].WritesCompleted = true;
                }
                else
                {
                    Assert.True(e.Kind is ConnectionEventKind.StreamReadable or ConnectionEventKind.StreamWritable or ConnectionEventKind.StreamsAvailable, $"unexpected {e}");
                }
            }

            foreach ((ulong id, OutgoingStream stream) in outgoing)
            {
                if (stream.Released)
                {
                    continue;
                }

                if (!stream.Finished)
                {
                    int length = Math.Min(stream.Payload.Length - stream.Written, random.Next(1, 4000));
                    bool last = stream.Written + length == stream.Payload.Length;
                    int accepted = client.Write(id, stream.Payload.AsSpan(stream.Written, length), fin: last);
                    stream.Written += accepted;
                    stream.Finished = last && accepted == length;
                }

                if (StreamIds.IsBidirectional(id) && !stream.EchoFin)
                {
                    int read;
                    bool fin;
                    while ((read = client.Read(id, buffer, out fin)) > 0 || fin)
                    {
                        stream.Echo.AddRange(buffer.AsSpan(0, read).ToArray());
                        if (fin)
                        {
                            stream.EchoFin = true;
                            break;
                        }
                    }
                }

                if (stream.WritesCompleted && (StreamIds.IsUnidirectional(id) || stream.EchoFin))
                {
                    client.Release(id);
                    stream.Released = true;
                }
            }

            // Server application: accept, read, echo bidirectional data back, release when done.
            foreach (ConnectionEvent e in DrainEvents(server))
            {
                ulong id = (ulong)e.StreamId;
                switch (e.Kind)
                {
                    case ConnectionEventKind.StreamOpened:
                        Assert.True(incoming.TryAdd(id, new IncomingStream()), $"stream {id} opened twice");
                        break;
                    case ConnectionEventKind.StreamWritesCompleted:
                        incoming[id].WritesCompleted = true;
                        break;
                    case ConnectionEventKind.StreamReadable:
                        Assert.True(incoming.ContainsKey(id), $"stream {id} readable before opened");
                        break;
                    default:
                        Assert.True(e.Kind is ConnectionEventKind.StreamWritable, $"unexpected {e}");
                        break;
                }
            }

            foreach ((ulong id, IncomingStream stream) in incoming)
            {
                if (stream.Released)
                {
                    continue;
                }

                int read;
                bool fin = stream.Fin;
                while (!stream.Fin && ((read = server.Read(id, buffer, out fin)) > 0 || fin))
                {
                    stream.Received.AddRange(buffer.AsSpan(0, read).ToArray());
                    stream.Fin = fin;
                }

                bool bidirectional = StreamIds.IsBidirectional(id);
                if (bidirectional && !stream.EchoFinished)
                {
                    int pending = stream.Received.Count - stream.Echoed;
                    byte[] echo = stream.Received.GetRange(stream.Echoed, pending).ToArray();
                    int accepted = server.Write(id, echo, fin: stream.Fin);
                    stream.Echoed += accepted;
                    stream.EchoFinished = stream.Fin && accepted == pending;
                }

                if (stream.Fin && (!bidirectional || stream.WritesCompleted))
                {
                    server.Release(id);
                    stream.Released = true;
                }
            }

            bool allDone = nextPlan == plans.Count
                && outgoing.Values.All(s => s.Released)
                && incoming.Count == plans.Count
                && incoming.Values.All(s => s.Released)
                && client.OpenStreamCount == 0
                && server.OpenStreamCount == 0;
            if (allDone)
            {
                break;
            }

            // The network: send, deliver (maybe twice, in any order) or lose.
            int action = random.Next(100);
            if (action < 45)
            {
                bool fromClient = random.Next(2) == 0;
                Packet? packet = BuildPacket(fromClient ? client : server, fromClient);
                if (packet is not null)
                {
                    inFlight.Add(packet);
                }
            }
            else if (inFlight.Count > 0)
            {
                int index = random.Next(inFlight.Count);
                Packet packet = inFlight[index];
                StreamManager sender = packet.FromClient ? client : server;
                StreamManager receiver = packet.FromClient ? server : client;
                if (action < 85)
                {
                    if (random.Next(20) != 0)
                    {
                        inFlight.RemoveAt(index); // otherwise it stays and arrives again later
                    }

                    Deliver(packet, sender, receiver);
                }
                else
                {
                    inFlight.RemoveAt(index);
                    Lose(packet, sender);
                }
            }
        }

        Assert.True(step < 200_000, "the transfer did not complete");
        for (int i = 0; i < plans.Count; i++)
        {
            ulong id = outgoing.Keys.ElementAt(i);
            Assert.Equal(plans[i].Payload, incoming[id].Received.ToArray());
            if (plans[i].Bidirectional)
            {
                Assert.Equal(plans[i].Payload, outgoing[id].Echo.ToArray());
            }
        }
    }

    private static Packet? BuildPacket(StreamManager sender, bool fromClient)
    {
        var packet = new Packet(fromClient);
        int budget = PacketBudget;
        while (budget > 100 && sender.TryDequeueControlFrame(out ControlFrame frame))
        {
            packet.Controls.Add(frame);
            budget -= 20;
        }

        while (budget > 40 && sender.TryPeekSend(budget - 25, out StreamSendCandidate candidate))
        {
            byte[] data = new byte[candidate.MaxLength];
            sender.CommitSend(candidate, data, candidate.Fin);
            packet.Chunks.Add(new Chunk(candidate.StreamId, candidate.Offset, data, candidate.Fin));
            budget -= 25 + data.Length;
        }

        return packet.Controls.Count + packet.Chunks.Count > 0 ? packet : null;
    }

    private static void Deliver(Packet packet, StreamManager sender, StreamManager receiver)
    {
        foreach (ControlFrame frame in packet.Controls)
        {
            DeliverControlFrame(receiver, frame);
        }

        foreach (Chunk chunk in packet.Chunks)
        {
            receiver.OnStreamFrame(chunk.StreamId, chunk.Offset, chunk.Data, chunk.Fin);
        }

        foreach (ControlFrame frame in packet.Controls)
        {
            sender.OnControlFrameAcked(frame);
        }

        foreach (Chunk chunk in packet.Chunks)
        {
            sender.OnStreamDataAcked(chunk.StreamId, chunk.Offset, chunk.Data.Length, chunk.Fin);
        }
    }

    private static void Lose(Packet packet, StreamManager sender)
    {
        foreach (ControlFrame frame in packet.Controls)
        {
            sender.OnControlFrameLost(frame);
        }

        foreach (Chunk chunk in packet.Chunks)
        {
            sender.OnStreamDataLost(chunk.StreamId, chunk.Offset, chunk.Data.Length, chunk.Fin);
        }
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }
}

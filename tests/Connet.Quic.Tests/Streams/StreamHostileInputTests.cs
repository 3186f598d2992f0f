using Connet.Quic.Core;
using Connet.Quic.Core.Streams;
using static Connet.Quic.Tests.Streams.StreamTestKit;

namespace Connet.Quic.Tests.Streams;

/// <summary>Random (seeded) peer frames must only ever fail with a QuicProtocolException, never crash the manager.</summary>
public class StreamHostileInputTests
{
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void RandomPeerFrames_FailOnlyWithProtocolErrors(int seed)
    {
        var random = new Random(seed);
        int protocolErrors = 0;
        int acceptedFrames = 0;
        for (int round = 0; round < 300; round++)
        {
            var (client, server) = CreatePair();
            StreamManager target = random.Next(2) == 0 ? client : server;
            target.TryOpen(true, out _);
            target.TryOpen(false, out _);
            try
            {
                for (int i = 0; i < 30; i++)
                {
                    ApplyRandomFrame(random, target);
                    acceptedFrames++;
                    if (random.Next(3) == 0)
                    {
                        ApplyApplicationReads(target);
                    }
                }
            }
            catch (QuicProtocolException e)
            {
                Assert.True(Enum.IsDefined(e.Code), $"unexpected code {e.Code}");
                protocolErrors++;
            }
        }

        // Both outcomes must be common, or the generator is not exploring anything.
        Assert.True(protocolErrors > 0);
        Assert.True(acceptedFrames > 1000, $"only {acceptedFrames} frames were accepted");
    }

    // Mostly plausible values, sometimes extreme ones.
    private static ulong RandomValue(Random random) => random.Next(16) switch
    {
        0 => (1UL << 62) - (ulong)random.Next(1, 100),
        1 => (ulong)random.NextInt64(),
        < 8 => (ulong)random.Next(0, 16),
        _ => (ulong)random.Next(0, 2000),
    };

    private static void ApplyRandomFrame(Random random, StreamManager target)
    {
        ulong streamId = random.Next(40) switch
        {
            0 => RandomValue(random) >> 2,
            < 6 => (ulong)random.Next(0, 12),
            _ => (ulong)random.Next(0, 2),
        };
        switch (random.Next(9))
        {
            case 0:
            case 1:
            case 2:
                byte[] data = new byte[random.Next(0, 50)];
                target.OnStreamFrame(streamId, random.Next(10) == 0 ? RandomValue(random) : (ulong)random.Next(0, 50), data, random.Next(6) == 0);
                break;
            case 3:
                target.OnResetStream(streamId, RandomValue(random), random.Next(6) == 0 ? RandomValue(random) : (ulong)random.Next(0, 100));
                break;
            case 4:
                target.OnStopSending(streamId, RandomValue(random));
                break;
            case 5:
                target.OnMaxStreamData(streamId, RandomValue(random));
                break;
            case 6:
                target.OnMaxStreams(random.Next(2) == 0, RandomValue(random));
                break;
            case 7:
                target.OnStreamDataBlocked(streamId, RandomValue(random));
                break;
            default:
                target.OnMaxData(RandomValue(random));
                target.OnStreamsBlocked(random.Next(2) == 0, random.Next(2) == 0 ? 3 : RandomValue(random));
                break;
        }
    }

    private static void ApplyApplicationReads(StreamManager target)
    {
        var buffer = new byte[64];
        while (target.TryDequeueEvent(out var e))
        {
            if (e.Kind == Core.Connection.ConnectionEventKind.StreamReadable)
            {
                target.Read((ulong)e.StreamId, buffer, out _);
            }
        }

        while (target.TryPeekSend(100, out StreamSendCandidate candidate))
        {
            target.CommitSend(candidate, new byte[candidate.MaxLength], candidate.Fin);
        }

        while (target.TryDequeueControlFrame(out _))
        {
        }
    }
}

using System.Diagnostics;

namespace Connet.Quic.Bench;

/// <summary>Full handshakes (connect, then close) against one listening endpoint, one after another per worker.</summary>
internal static class HandshakeBenchmark
{
    public static async Task RunAsync(TimeSpan duration, int concurrency)
    {
        using var peers = new LoopbackPeers();
        await using QuicEndpoint serverEndpoint = peers.BindServer();
        using var stopping = new CancellationTokenSource();
        Task accepting = AcceptAndCloseAsync(serverEndpoint, stopping.Token);

        // One untimed handshake warms up the JIT and the crypto providers.
        await ConnectAndCloseAsync(peers, serverEndpoint);

        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        Task<int>[] workers = new Task<int>[concurrency];
        for (int i = 0; i < concurrency; i++)
        {
            workers[i] = Task.Run(async () =>
            {
                int completed = 0;
                while (clock.Elapsed < duration)
                {
                    await ConnectAndCloseAsync(peers, serverEndpoint);
                    completed++;
                }

                return completed;
            });
        }

        int[] counts = await Task.WhenAll(workers);
        clock.Stop();
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        await stopping.CancelAsync();
        await accepting;

        int total = counts.Sum();
        string label = concurrency == 1 ? "sequential" : $"{concurrency} concurrent";
        Console.WriteLine(
            $"handshakes ({label}): {total / clock.Elapsed.TotalSeconds:F0}/s ({total} in {clock.Elapsed.TotalSeconds:F1} s, " +
            $"{allocated / 1024.0 / Math.Max(total, 1):F0} KiB allocated per handshake, both peers)");
    }

    private static async Task ConnectAndCloseAsync(LoopbackPeers peers, QuicEndpoint serverEndpoint)
    {
        await using QuicConnection client = await QuicConnection.ConnectAsync(peers.ClientOptions(serverEndpoint.LocalEndPoint));
        await client.CloseAsync(0);
    }

    private static async Task AcceptAndCloseAsync(QuicEndpoint endpoint, CancellationToken cancellationToken)
    {
        var open = new List<Task>();
        try
        {
            while (true)
            {
                QuicConnection connection = await endpoint.AcceptConnectionAsync(cancellationToken);
                open.Add(connection.DisposeAsync().AsTask());
                open.RemoveAll(task => task.IsCompleted);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(open);
    }
}

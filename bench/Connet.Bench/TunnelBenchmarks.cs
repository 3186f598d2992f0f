using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Connet.Bench;

internal static class TunnelBenchmarks
{
    private const int WarmUpBytes = 16 * 1024 * 1024;
    private const int WarmUpConnections = 10;
    private const int EchoBytes = 32;
    private static readonly TimeSpan PhaseTimeout = TimeSpan.FromSeconds(120);

    /// <summary>Sends <paramref name="bytes"/> through the tunnel to the sink, then the same straight to the sink.</summary>
    public static async Task ThroughputAsync(TunnelKit tunnel, long bytes, CancellationToken cancellationToken)
    {
        using var phase = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        phase.CancelAfter(PhaseTimeout);

        // Warm-up: JIT, tiering and window growth on both paths, so the measured runs compare steady states.
        await SendToSinkAsync(tunnel.SinkThroughTunnel, WarmUpBytes, phase.Token);
        await SendToSinkAsync(tunnel.Sink.EndPoint, WarmUpBytes, phase.Token);

        TimeSpan tunnelled = await SendToSinkAsync(tunnel.SinkThroughTunnel, bytes, phase.Token);
        TimeSpan plain = await SendToSinkAsync(tunnel.Sink.EndPoint, bytes, phase.Token);

        double tunnelGbps = Gbps(bytes, tunnelled);
        double plainGbps = Gbps(bytes, plain);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"tunnel throughput ({tunnel.PathName}): {tunnelGbps:0.00} Gbit/s (TCP loopback {plainGbps:0.00} Gbit/s, ratio {tunnelGbps / plainGbps:0.000}); {bytes / (1024 * 1024)} MiB in {tunnelled.TotalSeconds:0.00} s"));
    }

    /// <summary>Sequential new connections, each echoing 32 bytes, through the tunnel and then straight to the echo server.</summary>
    public static async Task LatencyAsync(TunnelKit tunnel, int connections, CancellationToken cancellationToken)
    {
        using var phase = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        phase.CancelAfter(PhaseTimeout);

        await EchoManyAsync(tunnel.EchoThroughTunnel, WarmUpConnections, phase.Token);
        await EchoManyAsync(tunnel.Echo.EndPoint, WarmUpConnections, phase.Token);

        double[] tunnelled = await EchoManyAsync(tunnel.EchoThroughTunnel, connections, phase.Token);
        double[] plain = await EchoManyAsync(tunnel.Echo.EndPoint, connections, phase.Token);

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"tunnel connect+echo ({tunnel.PathName}): median {Percentile(tunnelled, 0.5):0.000} ms, p99 {Percentile(tunnelled, 0.99):0.000} ms (TCP loopback median {Percentile(plain, 0.5):0.000} ms, p99 {Percentile(plain, 0.99):0.000} ms); {connections} sequential connections, {EchoBytes} B each"));
    }

    /// <summary>Connects, writes <paramref name="bytes"/>, half-closes and waits for the sink's FIN: every byte arrived.</summary>
    private static async Task<TimeSpan> SendToSinkAsync(IPEndPoint sink, long bytes, CancellationToken cancellationToken)
    {
        byte[] chunk = new byte[256 * 1024];
        new Random(1).NextBytes(chunk);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        long started = Stopwatch.GetTimestamp();
        await socket.ConnectAsync(sink, cancellationToken);
        for (long remaining = bytes; remaining > 0;)
        {
            int length = (int)Math.Min(chunk.Length, remaining);
            await socket.SendAsync(chunk.AsMemory(0, length), cancellationToken);
            remaining -= length;
        }

        socket.Shutdown(SocketShutdown.Send);
        byte[] scratch = new byte[16];
        while (await socket.ReceiveAsync(scratch, cancellationToken) > 0)
        {
            // The sink sends nothing; this waits for its FIN.
        }

        return Stopwatch.GetElapsedTime(started);
    }

    /// <summary>Milliseconds per connection for connect + 32-byte write + reading the 32-byte echo.</summary>
    private static async Task<double[]> EchoManyAsync(IPEndPoint echo, int connections, CancellationToken cancellationToken)
    {
        byte[] payload = new byte[EchoBytes];
        new Random(2).NextBytes(payload);
        byte[] received = new byte[EchoBytes];
        double[] milliseconds = new double[connections];
        for (int index = 0; index < connections; index++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            long started = Stopwatch.GetTimestamp();
            await socket.ConnectAsync(echo, cancellationToken);
            await socket.SendAsync(payload, cancellationToken);
            int total = 0;
            while (total < EchoBytes)
            {
                int read = await socket.ReceiveAsync(received.AsMemory(total), cancellationToken);
                if (read == 0)
                {
                    throw new IOException($"The echo closed after {total} of {EchoBytes} bytes (connection {index}).");
                }

                total += read;
            }

            milliseconds[index] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            if (!received.AsSpan().SequenceEqual(payload))
            {
                throw new IOException($"The echo returned different bytes (connection {index}).");
            }

            socket.Shutdown(SocketShutdown.Send);
        }

        return milliseconds;
    }

    private static double Gbps(long bytes, TimeSpan elapsed) => bytes * 8 / elapsed.TotalSeconds / 1e9;

    private static double Percentile(double[] samples, double quantile)
    {
        double[] sorted = [.. samples];
        Array.Sort(sorted);
        int rank = (int)Math.Ceiling(quantile * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}

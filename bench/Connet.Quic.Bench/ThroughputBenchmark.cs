using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Connet.Quic.Bench;

/// <summary>One connection, one bidirectional stream, bulk data one way over 127.0.0.1; TCP loopback as the baseline.</summary>
internal static class ThroughputBenchmark
{
    private const int ChunkSize = 64 * 1024;

    public static async Task RunAsync(long maxBytes, TimeSpan maxDuration)
    {
        using var peers = new LoopbackPeers();
        await using QuicEndpoint serverEndpoint = peers.BindServer();
        Task<QuicConnection> accepting = serverEndpoint.AcceptConnectionAsync().AsTask();
        await using QuicConnection client = await QuicConnection.ConnectAsync(peers.ClientOptions(serverEndpoint.LocalEndPoint));
        await using QuicConnection server = await accepting;

        // Warm up the JIT and the congestion window on a throwaway stream before measuring.
        await TransferAsync(client, server, 32L * 1024 * 1024, TimeSpan.FromSeconds(10));

        using var datagrams = new DatagramCounter();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        int gen0Before = GC.CollectionCount(0);
        (long bytes, TimeSpan elapsed) = await TransferAsync(client, server, maxBytes, maxDuration);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        int gen0 = GC.CollectionCount(0) - gen0Before;
        long packets = datagrams.Sent;

        double quicGbps = GigabitsPerSecond(bytes, elapsed);
        double tcpGbps = await TcpLoopbackGbpsAsync(bytes);
        Console.WriteLine(
            $"throughput: {quicGbps:F2} Gbit/s (TCP loopback {tcpGbps:F2} Gbit/s, ratio {quicGbps / tcpGbps:F2}); " +
            $"{bytes / (1024.0 * 1024):F0} MiB in {elapsed.TotalSeconds:F2} s");
        Console.WriteLine(
            $"throughput datagrams: {packets} sent ({bytes / (double)Math.Max(packets, 1):F0} payload B/datagram, " +
            $"{packets / elapsed.TotalSeconds:F0}/s), {allocated / (double)Math.Max(packets, 1):F0} B allocated per datagram sent (both peers), {gen0} gen0 GCs");
    }

    private static async Task<(long Bytes, TimeSpan Elapsed)> TransferAsync(QuicConnection client, QuicConnection server, long maxBytes, TimeSpan maxDuration)
    {
        await using QuicStream outbound = await client.OpenOutboundStreamAsync(QuicStreamType.Bidirectional);

        // The stream is announced to the peer by its first byte; accept it before starting the clock.
        await outbound.WriteAsync(new byte[1]);
        await using QuicStream inbound = await server.AcceptInboundStreamAsync();
        Task<long> reading = DrainAsync(inbound);

        byte[] chunk = new byte[ChunkSize];
        long sent = 1;
        var clock = Stopwatch.StartNew();
        while (sent < maxBytes && clock.Elapsed < maxDuration)
        {
            int length = (int)Math.Min(chunk.Length, maxBytes - sent);
            await outbound.WriteAsync(chunk.AsMemory(0, length));
            sent += length;
        }

        outbound.CompleteWrites();
        long received = await reading;
        clock.Stop();
        if (received != sent)
        {
            throw new InvalidOperationException($"Sent {sent} bytes but the peer read {received}.");
        }

        return (received, clock.Elapsed);
    }

    private static async Task<long> DrainAsync(QuicStream stream)
    {
        byte[] buffer = new byte[ChunkSize];
        long total = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }

    private static async Task<double> TcpLoopbackGbpsAsync(long bytes)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        using var clientSocket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Task<Socket> accepting = listener.AcceptAsync();
        await clientSocket.ConnectAsync(listener.LocalEndPoint!);
        using Socket serverSocket = await accepting;
        await using var sending = new NetworkStream(clientSocket, ownsSocket: false);
        await using var receiving = new NetworkStream(serverSocket, ownsSocket: false);

        Task<long> reading = Task.Run(async () =>
        {
            byte[] buffer = new byte[ChunkSize];
            long total = 0;
            int read;
            while ((read = await receiving.ReadAsync(buffer)) > 0)
            {
                total += read;
            }

            return total;
        });

        byte[] chunk = new byte[ChunkSize];
        var clock = Stopwatch.StartNew();
        for (long sent = 0; sent < bytes;)
        {
            int length = (int)Math.Min(chunk.Length, bytes - sent);
            await sending.WriteAsync(chunk.AsMemory(0, length));
            sent += length;
        }

        clientSocket.Shutdown(SocketShutdown.Send);
        long received = await reading;
        clock.Stop();
        if (received != bytes)
        {
            throw new InvalidOperationException($"TCP: sent {bytes} bytes but read {received}.");
        }

        return GigabitsPerSecond(bytes, clock.Elapsed);
    }

    private static double GigabitsPerSecond(long bytes, TimeSpan elapsed) => bytes * 8 / elapsed.TotalSeconds / 1e9;
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Connet.Core.Crypto;

namespace Connet.Core.Tests.Crypto;

public sealed class DhxcpStreamTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    private static (DhxcpKeys Source, DhxcpKeys Destination) NewKeys()
    {
        var source = DhxcpKeyPair.Generate();
        var destination = DhxcpKeyPair.Generate();
        return (DhxcpKeys.Derive(source, destination.PublicKey.Span, DhxcpRole.Source),
            DhxcpKeys.Derive(destination, source.PublicKey.Span, DhxcpRole.Destination));
    }

    private static async Task<(NetworkStream Client, NetworkStream Server)> ConnectLoopbackAsync(CancellationToken cancellationToken)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = listener.AcceptAsync(cancellationToken).AsTask();
        await client.ConnectAsync(listener.LocalEndPoint!, cancellationToken);
        var server = await accept;
        return (new NetworkStream(client, ownsSocket: true), new NetworkStream(server, ownsSocket: true));
    }

    [Fact]
    public async Task One_MiB_round_trips_both_ways_over_loopback_tcp()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var (sourceKeys, destinationKeys) = NewKeys();
        var (clientSocket, serverSocket) = await ConnectLoopbackAsync(timeout.Token);
        await using var source = new DhxcpStream(clientSocket, sourceKeys);
        await using var destination = new DhxcpStream(serverSocket, destinationKeys);

        var payload = RandomNumberGenerator.GetBytes(1024 * 1024);

        // The destination echoes everything back, so both directions and both key pairs carry the MiB.
        var echo = Task.Run(async () =>
        {
            await destination.CopyToAsync(destination, 50_000, timeout.Token);
            await destination.FlushAsync(timeout.Token);
            serverSocket.Socket.Shutdown(SocketShutdown.Send);
        }, timeout.Token);
        var send = Task.Run(async () =>
        {
            await source.WriteAsync(payload, timeout.Token);
            clientSocket.Socket.Shutdown(SocketShutdown.Send);
        }, timeout.Token);

        var received = new MemoryStream();
        await source.CopyToAsync(received, 70_000, timeout.Token);
        await Task.WhenAll(send, echo);

        Assert.Equal(payload, received.ToArray());
    }

    [Fact]
    public async Task Writes_split_into_max_size_records_with_counter_nonces()
    {
        var (sourceKeys, _) = NewKeys();
        var wire = new MemoryStream();
        await using (var source = new DhxcpStream(wire, sourceKeys, leaveOpen: true))
        {
            await source.WriteAsync(new byte[DhxcpStream.MaxRecordPlaintext + 1]);
            await source.WriteAsync(new byte[1]);
            source.Write([]);
        }

        var bytes = wire.ToArray();
        var lengths = new List<int>();
        for (var offset = 0; offset < bytes.Length && lengths.Count < 10;)
        {
            var length = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(offset));
            lengths.Add(length);
            offset += 2 + length;
        }

        Assert.Equal([65533, 17, 17], lengths);

        // Record 1 decrypts under nonce 00..01 with the source write key: the counter is big-endian and per record.
        using var aead = new ChaCha20Poly1305(sourceKeys.WriteKey.Span);
        var nonce = new byte[12];
        nonce[11] = 1;
        var secondRecord = bytes.AsSpan(2 + 65533 + 2, 17);
        var plaintext = new byte[1];
        aead.Decrypt(nonce, secondRecord[..1], secondRecord[1..], plaintext);
        Assert.Equal([0], plaintext);
    }

    [Fact]
    public async Task Small_and_max_size_records_read_back_through_small_buffers()
    {
        var (sourceKeys, destinationKeys) = NewKeys();
        var wire = new MemoryStream();
        var messages = new[] { new byte[1], RandomNumberGenerator.GetBytes(DhxcpStream.MaxRecordPlaintext), RandomNumberGenerator.GetBytes(100_000) };
        await using (var source = new DhxcpStream(wire, sourceKeys, leaveOpen: true))
        {
            foreach (var message in messages)
            {
                await source.WriteAsync(message);
            }
        }

        wire.Position = 0;
        using var destination = new DhxcpStream(wire, destinationKeys);
        var received = new MemoryStream();
        var chunk = new byte[777];
        for (var reads = 0; reads < 10_000; reads++)
        {
            var read = reads % 2 == 0 ? destination.Read(chunk) : await destination.ReadAsync(chunk);
            if (read == 0)
            {
                break;
            }

            received.Write(chunk, 0, read);
        }

        Assert.Equal(messages.SelectMany(m => m).ToArray(), received.ToArray());
    }

    [Theory]
    [InlineData(2)] // first ciphertext byte
    [InlineData(10 + 2 + 16 - 1)] // last tag byte
    public async Task Tampered_record_is_named_and_never_returns_data(int tamperedOffset)
    {
        var (sourceKeys, destinationKeys) = NewKeys();
        var wire = await SealAsync(sourceKeys, new byte[10]);
        wire[tamperedOffset] ^= 0x80;

        using var destination = new DhxcpStream(new MemoryStream(wire), destinationKeys);
        var buffer = new byte[64];
        var error = await Assert.ThrowsAsync<DhxcpException>(async () => _ = await destination.ReadAsync(buffer));
        Assert.Contains("record 0 failed authentication", error.Message, StringComparison.Ordinal);
        Assert.All(buffer, b => Assert.Equal(0, b));

        // The read side stays failed.
        Assert.Throws<DhxcpException>(() => destination.Read(buffer));
    }

    [Fact]
    public async Task Record_from_the_wrong_direction_fails_authentication()
    {
        var (sourceKeys, _) = NewKeys();
        var wire = await SealAsync(sourceKeys, new byte[10]);

        // The source's own read key is the destination's write key, not the source's write key.
        using var reflected = new DhxcpStream(new MemoryStream(wire), sourceKeys);
        await Assert.ThrowsAsync<DhxcpException>(async () => _ = await reflected.ReadAsync(new byte[64]));
    }

    [Fact]
    public async Task Reordered_records_fail_authentication()
    {
        var (sourceKeys, destinationKeys) = NewKeys();
        var first = await SealAsync(sourceKeys, new byte[5]);
        var wire = await SealAsync(sourceKeys, new byte[5], new byte[5]);

        // Only the second record: it was sealed under nonce 1 but the reader expects nonce 0.
        using var destination = new DhxcpStream(new MemoryStream(wire[first.Length..]), destinationKeys);
        await Assert.ThrowsAsync<DhxcpException>(async () => _ = await destination.ReadAsync(new byte[64]));
    }

    [Theory]
    [InlineData(1)] // inside the length prefix
    [InlineData(2)] // prefix only
    [InlineData(2 + 10 + 15)] // one tag byte missing
    public async Task Truncated_record_is_an_error_not_end_of_stream(int keptBytes)
    {
        var (sourceKeys, destinationKeys) = NewKeys();
        var wire = await SealAsync(sourceKeys, new byte[10]);

        using var destination = new DhxcpStream(new MemoryStream(wire[..keptBytes]), destinationKeys);
        var error = await Assert.ThrowsAsync<DhxcpException>(async () => _ = await destination.ReadAsync(new byte[64]));
        Assert.Contains("ended inside", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clean_end_between_records_reads_zero()
    {
        var (sourceKeys, destinationKeys) = NewKeys();
        var wire = await SealAsync(sourceKeys, [1, 2, 3]);

        using var destination = new DhxcpStream(new MemoryStream(wire), destinationKeys);
        var buffer = new byte[64];
        Assert.Equal(3, await destination.ReadAsync(buffer));
        Assert.Equal(0, await destination.ReadAsync(buffer));
        Assert.Equal(0, destination.Read(buffer));
    }

    [Fact]
    public void Record_shorter_than_a_tag_is_rejected()
    {
        var (_, destinationKeys) = NewKeys();
        using var destination = new DhxcpStream(new MemoryStream([0, 15, .. new byte[15]]), destinationKeys);
        var error = Assert.Throws<DhxcpException>(() => destination.Read(new byte[64]));
        Assert.Contains("shorter than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Write_counter_refuses_to_wrap()
    {
        var (sourceKeys, destinationKeys) = NewKeys();
        var wire = new MemoryStream();
        using var source = new DhxcpStream(wire, sourceKeys, leaveOpen: true) { WriteRecordCounter = ulong.MaxValue - 1 };

        await source.WriteAsync(new byte[] { 42 });
        var error = await Assert.ThrowsAsync<DhxcpException>(async () => await source.WriteAsync(new byte[] { 43 }));
        Assert.Contains("exhausted", error.Message, StringComparison.Ordinal);

        // The last allowed record used nonce 2^64 - 2 and still decrypts.
        wire.Position = 0;
        using var destination = new DhxcpStream(wire, destinationKeys) { ReadRecordCounter = ulong.MaxValue - 1 };
        var buffer = new byte[4];
        Assert.Equal(1, destination.Read(buffer));
        Assert.Equal(42, buffer[0]);
    }

    [Fact]
    public void Dispose_closes_the_inner_stream_unless_left_open()
    {
        var (sourceKeys, _) = NewKeys();
        var owned = new MemoryStream();
        var borrowed = new MemoryStream();
        new DhxcpStream(owned, sourceKeys).Dispose();
        new DhxcpStream(borrowed, sourceKeys, leaveOpen: true).Dispose();

        Assert.False(owned.CanRead);
        Assert.True(borrowed.CanRead);
    }

    private static async Task<byte[]> SealAsync(DhxcpKeys keys, params byte[][] messages)
    {
        var wire = new MemoryStream();
        await using var stream = new DhxcpStream(wire, keys, leaveOpen: true);
        foreach (var message in messages)
        {
            await stream.WriteAsync(message);
        }

        return wire.ToArray();
    }
}

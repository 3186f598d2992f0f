using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Tests.Api;

/// <summary>Bulk data through QuicListener and QuicConnection on 127.0.0.1, checked byte for byte by a streaming hash.</summary>
public sealed class LargeTransferLoopbackTests : IDisposable
{
    private const long TransferLength = 100L * 1024 * 1024;
    private const int ChunkLength = 64 * 1024;

    /// <summary>Generous: guards against a hang on a loaded 2-core machine, never asserts a duration.</summary>
    private static readonly TimeSpan TransferGuard = TimeSpan.FromMinutes(3);

    private readonly X509Certificate2 _serverCertificate = LoopbackKit.CreateSelfSigned("localhost");

    public void Dispose() => _serverCertificate.Dispose();

    [Fact]
    public async Task Hundred_MiB_arrive_byte_identical_through_the_listener()
    {
        using var timeout = new CancellationTokenSource(TransferGuard);
        CancellationToken cancellationToken = timeout.Token;
        await using QuicListener listener = await QuicListener.ListenAsync(new QuicListenerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            ApplicationProtocols = [LoopbackKit.Alpn],
            ConnectionOptionsCallback = (_, _, _) => ValueTask.FromResult(LoopbackKit.ServerOptions(_serverCertificate)),
        }, cancellationToken);
        Task<QuicConnection> accepting = listener.AcceptConnectionAsync(cancellationToken).AsTask();
        await using QuicConnection client = await QuicConnection.ConnectAsync(
            LoopbackKit.ClientOptions(listener.LocalEndPoint, _serverCertificate), cancellationToken);
        await using QuicConnection server = await accepting;

        Task<(long Length, byte[] Hash)> receiving = ReceiveAndHashAsync(server, cancellationToken);
        (long sentLength, byte[] sentHash) = await SendSeededAsync(client, seed: 100, cancellationToken);
        (long receivedLength, byte[] receivedHash) = await receiving;

        Assert.Equal(TransferLength, sentLength);
        Assert.Equal(sentLength, receivedLength);
        Assert.Equal(Convert.ToHexString(sentHash), Convert.ToHexString(receivedHash));
    }

    private static async Task<(long Length, byte[] Hash)> SendSeededAsync(QuicConnection connection, int seed, CancellationToken cancellationToken)
    {
        await using QuicStream stream = await connection.OpenOutboundStreamAsync(QuicStreamType.Unidirectional, cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var random = new Random(seed);
        byte[] chunk = new byte[ChunkLength];
        long sent = 0;
        while (sent < TransferLength)
        {
            random.NextBytes(chunk);
            hash.AppendData(chunk);
            sent += chunk.Length;
            await stream.WriteAsync(chunk, completeWrites: sent == TransferLength, cancellationToken);
        }

        // Acknowledged, FIN included: the peer has everything.
        await stream.WritesClosed.WaitAsync(cancellationToken);
        return (sent, hash.GetHashAndReset());
    }

    private static async Task<(long Length, byte[] Hash)> ReceiveAndHashAsync(QuicConnection connection, CancellationToken cancellationToken)
    {
        await using QuicStream stream = await connection.AcceptInboundStreamAsync(cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[ChunkLength];
        long received = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            received += read;
        }

        return (received, hash.GetHashAndReset());
    }
}

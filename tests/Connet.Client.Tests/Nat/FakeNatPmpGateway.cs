using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Connet.Client.Tests.Nat;

/// <summary>
/// A NAT-PMP gateway on a loopback UDP port answering per RFC 6886: op 0 with <see cref="ExternalAddress"/>, op 1
/// with <see cref="ExternalPort"/> and the requested lifetime. <see cref="Answer"/> can replace the answers (hostile
/// or refusing gateways). Every request is recorded with its sender.
/// </summary>
internal sealed class FakeNatPmpGateway : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _serving;

    public FakeNatPmpGateway()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _serving = ServeAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public IPAddress ExternalAddress { get; set; } = IPAddress.Parse("203.0.113.7");

    public ushort ExternalPort { get; set; } = 40123;

    public uint Epoch { get; set; } = 1000;

    /// <summary>The datagrams to send back for a request; null answers per RFC.</summary>
    public Func<byte[], IReadOnlyList<byte[]>>? Answer { get; set; }

    public ConcurrentQueue<(byte[] Request, IPEndPoint From)> Requests { get; } = new();

    public static byte[] ExternalAddressAnswer(uint epoch, IPAddress address, ushort result = 0)
    {
        var answer = new byte[12];
        answer[1] = 128;
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(2), result);
        BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(4), epoch);
        address.GetAddressBytes().CopyTo(answer, 8);
        return answer;
    }

    public static byte[] MapAnswer(uint epoch, ushort internalPort, ushort externalPort, uint lifetime, ushort result = 0)
    {
        var answer = new byte[16];
        answer[1] = 129;
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(2), result);
        BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(4), epoch);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(8), internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(answer.AsSpan(10), externalPort);
        BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(12), lifetime);
        return answer;
    }

    private IReadOnlyList<byte[]> AnswerPerRfc(byte[] request) => request switch
    {
        [0, 0] => [ExternalAddressAnswer(Epoch, ExternalAddress)],
        [0, 1, _, _, _, _, _, _, _, _, _, _] => [MapAnswer(
            Epoch,
            BinaryPrimitives.ReadUInt16BigEndian(request.AsSpan(4)),
            BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(8)) == 0 ? (ushort)0 : ExternalPort,
            BinaryPrimitives.ReadUInt32BigEndian(request.AsSpan(8)))],
        _ => [],
    };

    private async Task ServeAsync()
    {
        var buffer = new byte[1500];
        while (!_stopping.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stopping.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            byte[] request = buffer[..received.ReceivedBytes];
            var from = (IPEndPoint)received.RemoteEndPoint;
            Requests.Enqueue((request, from));
            foreach (byte[] answer in (Answer ?? AnswerPerRfc)(request))
            {
                await _socket.SendToAsync(answer, from);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _socket.Dispose();
        await _serving;
        _stopping.Dispose();
    }
}

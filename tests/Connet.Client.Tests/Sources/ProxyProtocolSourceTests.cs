using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Connet.Client.Tests.Sources;

/// <summary>A destination with a PROXY protocol setting: its target receives the header written by the source, then the bytes.</summary>
public sealed class ProxyProtocolSourceTests
{
    [Fact]
    public async Task V1_header_with_the_callers_addresses_arrives_before_the_payload()
    {
        await using var target = new RecordingTarget();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, target.Url, ConnetProxyProtocol.V1);
        var source = await SourceKit.StartSourceAsync(kit, "tcp://127.0.0.1:0");
        await SourceKit.WaitForDestinationsAsync(source, 1);
        IPEndPoint listener = ConnetClientKit.SourceAddress(source);
        using var guard = new CancellationTokenSource(TestKit.Guard);
        byte[] payload = Encoding.ASCII.GetBytes("GET / HTTP/1.0\r\n\r\n");

        IPEndPoint caller = await SendAndCloseAsync(listener, payload, guard.Token);
        byte[] received = await target.NextAsync(guard.Token);

        byte[] header = Encoding.ASCII.GetBytes($"PROXY TCP4 127.0.0.1 127.0.0.1 {caller.Port} {listener.Port}\r\n");
        Assert.Equal(Encoding.ASCII.GetString([.. header, .. payload]), Encoding.ASCII.GetString(received));
    }

    [Fact]
    public async Task V2_header_with_the_callers_addresses_arrives_before_the_payload()
    {
        await using var target = new RecordingTarget();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, target.Url, ConnetProxyProtocol.V2);
        var source = await SourceKit.StartSourceAsync(kit, "tcp://127.0.0.1:0");
        await SourceKit.WaitForDestinationsAsync(source, 1);
        IPEndPoint listener = ConnetClientKit.SourceAddress(source);
        using var guard = new CancellationTokenSource(TestKit.Guard);
        byte[] payload = TestKit.SeededPayload(7, 64 * 1024);

        IPEndPoint caller = await SendAndCloseAsync(listener, payload, guard.Token);
        byte[] received = await target.NextAsync(guard.Token);

        byte[] ports = new byte[4];
        BinaryPrimitives.WriteUInt16BigEndian(ports, (ushort)caller.Port);
        BinaryPrimitives.WriteUInt16BigEndian(ports.AsSpan(2), (ushort)listener.Port);
        byte[] expected =
        [
            0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
            0x21, 0x11, 0x00, 0x0C,
            127, 0, 0, 1,
            127, 0, 0, 1,
            .. ports,
            .. payload,
        ];
        Assert.Equal(expected.Length, received.Length);
        Assert.True(expected.AsSpan().SequenceEqual(received), "the target did not receive the v2 header followed by the payload");
    }

    [Fact]
    public async Task Tls_source_writes_the_header_too_with_the_tcp_addresses_of_the_tls_caller()
    {
        using var certificate = ConnetClientKit.CreateSelfSigned("source.connet.test");
        await using var target = new RecordingTarget();
        await using var kit = await ConnetClientKit.StartAsync();
        await SourceKit.StartDestinationAsync(kit, target.Url, ConnetProxyProtocol.V1);
        var source = await SourceKit.StartSourceAsync(kit, "tls://127.0.0.1:0", options => options.Certificate = certificate);
        await SourceKit.WaitForDestinationsAsync(source, 1);
        IPEndPoint listener = ConnetClientKit.SourceAddress(source);
        using var guard = new CancellationTokenSource(TestKit.Guard);
        byte[] payload = Encoding.ASCII.GetBytes("hello over tls");

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(listener, guard.Token);
        var caller = (IPEndPoint)socket.LocalEndPoint!;
        await using (var tls = new SslStream(new NetworkStream(socket, ownsSocket: false)))
        {
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions { TargetHost = "source.connet.test", RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetRawCertData().AsSpan().SequenceEqual(certificate.RawData) },
                guard.Token);
            await tls.WriteAsync(payload, guard.Token);
            await tls.ShutdownAsync();
            socket.Shutdown(SocketShutdown.Send);
            await TestKit.ReadToEndAsync(tls, guard.Token);
        }

        byte[] received = await target.NextAsync(guard.Token);
        Assert.Equal($"PROXY TCP4 127.0.0.1 127.0.0.1 {caller.Port} {listener.Port}\r\nhello over tls", Encoding.ASCII.GetString(received));
    }

    /// <summary>Sends <paramref name="payload"/> and half-closes; returns the caller's own address (what the header must name).</summary>
    private static async Task<IPEndPoint> SendAndCloseAsync(IPEndPoint listener, byte[] payload, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(listener, cancellationToken);
        var caller = (IPEndPoint)socket.LocalEndPoint!;
        await using var stream = new NetworkStream(socket, ownsSocket: false);
        await stream.WriteAsync(payload, cancellationToken);
        socket.Shutdown(SocketShutdown.Send);
        await TestKit.ReadToEndAsync(stream, cancellationToken); // The target closes after our end.
        return caller;
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using Connet.Core.Runtime;
using Microsoft.Extensions.Hosting;

namespace Connet.Host.Commands;

/// <summary>The demo's TCP service: greets each connection with one line, then echoes every byte back.</summary>
internal sealed class HelloService(IPEndPoint address) : IHostedService, IAsyncDisposable
{
    public static readonly byte[] Greeting = Encoding.ASCII.GetBytes("hello from the connet demo; type something and it comes back\n");

    private readonly BackgroundTasks _tasks = new();
    private TcpListener? _listener;

    public IPEndPoint? LocalEndPoint => (IPEndPoint?)_listener?.LocalEndpoint;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new TcpListener(address);
        _listener.Start();
        _tasks.Run(AcceptLoopAsync);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync().ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        _listener?.Stop();
        await _tasks.DisposeAsync().ConfigureAwait(false);
    }

    private async Task AcceptLoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener!.AcceptTcpClientAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            if (!_tasks.Run(token => EchoAsync(client, token)))
            {
                client.Dispose();
            }
        }
    }

    private static async Task EchoAsync(TcpClient client, CancellationToken stopping)
    {
        using var owned = client;
        try
        {
            var stream = client.GetStream();
            await stream.WriteAsync(Greeting, stopping).ConfigureAwait(false);
            byte[] buffer = new byte[16 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer, stopping).ConfigureAwait(false)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), stopping).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException)
        {
            // The visitor went away or the demo is stopping.
        }
    }
}

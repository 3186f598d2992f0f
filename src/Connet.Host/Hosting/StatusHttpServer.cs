using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Connet.Core.Runtime;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Connet.Host.Hosting;

/// <summary>
/// The <c>status-addr</c> server: any method on any path answers the status snapshot as JSON (kebab-case keys,
/// endpoints and addresses as strings). A bare TCP listener rather than Kestrel: it keeps the single-file tool free
/// of ASP.NET Core, binds exactly the configured address (port 0 included), and the protocol needed is one response.
/// </summary>
internal sealed partial class StatusHttpServer(IPEndPoint address, Func<object> snapshot, ILogger<StatusHttpServer> logger) : IHostedService, IAsyncDisposable
{
    /// <summary>Request heads longer than this are cut off: the request is never interpreted anyway.</summary>
    private const int MaxRequestHeadBytes = 16 * 1024;

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    public static readonly JsonSerializerOptions JsonOptions = CreateJsonOptions();

    private readonly BackgroundTasks _tasks = new();
    private TcpListener? _listener;
    private int _stopped;

    public IPEndPoint? LocalEndPoint => (IPEndPoint?)_listener?.LocalEndpoint;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _listener = new TcpListener(address);
        _listener.Start();
        Log.Listening(logger, LocalEndPoint!.ToString());
        _tasks.Run(AcceptLoopAsync);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _listener?.Stop();
        await _tasks.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    public static string Serialize(object value) => JsonSerializer.Serialize(value, JsonOptions);

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower,
            DictionaryKeyPolicy = null,
            WriteIndented = true,
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower));
        options.Converters.Add(new ToStringConverter<IPEndPoint>());
        options.Converters.Add(new ToStringConverter<IPAddress>());
        return options;
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
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException && stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException exception)
            {
                Log.AcceptFailed(logger, exception.Message);
                continue;
            }

            if (!_tasks.Run(token => AnswerAsync(client, token)))
            {
                client.Dispose();
            }
        }
    }

    private async Task AnswerAsync(TcpClient client, CancellationToken stopping)
    {
        using var owned = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            var stream = client.GetStream();
            await ReadRequestHeadAsync(stream, timeout.Token).ConfigureAwait(false);
            byte[] body = Encoding.UTF8.GetBytes(Serialize(snapshot()));
            string head = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(head), timeout.Token).ConfigureAwait(false);
            await stream.WriteAsync(body, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or SocketException or OperationCanceledException)
        {
            Log.RequestFailed(logger, exception.Message);
        }
    }

    /// <summary>Reads until the blank line ending the request head, at most <see cref="MaxRequestHeadBytes"/>.</summary>
    private static async Task ReadRequestHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[MaxRequestHeadBytes];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0 || buffer.AsSpan(0, length).IndexOf("\n\n"u8) >= 0)
            {
                return;
            }
        }
    }

    private sealed class ToStringConverter<T> : JsonConverter<T>
        where T : class
    {
        public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            throw new NotSupportedException("Status is written only.");

        public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Status server listening on http://{Address}", EventName = "StatusListening")]
        public static partial void Listening(ILogger logger, string address);

        [LoggerMessage(2, LogLevel.Debug, "Status request failed: {Reason}", EventName = "StatusRequestFailed")]
        public static partial void RequestFailed(ILogger logger, string reason);

        [LoggerMessage(3, LogLevel.Warning, "Status server accept failed: {Reason}", EventName = "StatusAcceptFailed")]
        public static partial void AcceptFailed(ILogger logger, string reason);
    }
}

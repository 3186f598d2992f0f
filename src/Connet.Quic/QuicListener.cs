using System.Net;

namespace Connet.Quic;

/// <summary>Accepts QUIC connections on a local address (System.Net.Quic's shape, over a <see cref="QuicEndpoint"/>).</summary>
public sealed class QuicListener : IAsyncDisposable
{
    private readonly QuicEndpoint _endpoint;

    private QuicListener(QuicEndpoint endpoint) => _endpoint = endpoint;

    /// <summary>Always true: the stack is managed and needs no native library.</summary>
    public static bool IsSupported => true;

    public IPEndPoint LocalEndPoint => _endpoint.LocalEndPoint;

    public static ValueTask<QuicListener> ListenAsync(QuicListenerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        cancellationToken.ThrowIfCancellationRequested();
        QuicEndpoint endpoint = QuicEndpoint.Bind(new QuicEndpointOptions
        {
            LocalEndPoint = options.ListenEndPoint,
            ApplicationProtocols = options.ApplicationProtocols,
            ListenBacklog = options.ListenBacklog,
            ConnectionOptionsCallback = options.ConnectionOptionsCallback,
        });
        return ValueTask.FromResult(new QuicListener(endpoint));
    }

    public ValueTask<QuicConnection> AcceptConnectionAsync(CancellationToken cancellationToken = default) =>
        _endpoint.AcceptConnectionAsync(cancellationToken);

    public ValueTask DisposeAsync() => _endpoint.DisposeAsync();
}

using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;
using Connet.Core.Tunnels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Connet.Client.Tunnels.Destinations;

/// <summary>The address Kestrel "listens" on for an <see cref="InProcessTransport"/>: a name, no port.</summary>
internal sealed class InProcessEndPoint(string name) : EndPoint
{
    public string Name { get; } = name;

    public override string ToString() => $"in-process:{Name}";
}

/// <summary>
/// A Kestrel transport without sockets: <see cref="Connect"/> makes a duplex pipe pair, queues one end for Kestrel to
/// accept as a connection and returns the other end as a <see cref="Stream"/> (a tunnelled stream splices onto it).
/// </summary>
internal sealed class InProcessTransport : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    /// <summary>Connections made but not yet accepted by Kestrel; beyond it a dial fails instead of queueing without bound.</summary>
    public const int MaxPendingConnections = 512;

    private InProcessListener? _listener;

    public bool CanBind(EndPoint endpoint) => endpoint is InProcessEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not InProcessEndPoint)
        {
            throw new NotSupportedException($"{endpoint} is not an in-process endpoint.");
        }

        var listener = new InProcessListener(endpoint);
        _listener = listener;
        return ValueTask.FromResult<IConnectionListener>(listener);
    }

    /// <summary>A new connection to the server; throws when the server is not listening (not started, or stopped).</summary>
    public Stream Connect() =>
        (_listener ?? throw new InvalidOperationException("the in-process HTTP server is not listening")).Connect();

    private sealed class InProcessListener(EndPoint endPoint) : IConnectionListener
    {
        private readonly Channel<InProcessConnection> _pending = Channel.CreateBounded<InProcessConnection>(MaxPendingConnections);
        private long _nextId;

        public EndPoint EndPoint { get; } = endPoint;

        public InProcessClientStream Connect()
        {
            var toServer = new Pipe();
            var toClient = new Pipe();
            var connection = new InProcessConnection(
                $"{EndPoint}#{Interlocked.Increment(ref _nextId)}",
                EndPoint,
                new DuplexPipe(toServer.Reader, toClient.Writer));
            if (!_pending.Writer.TryWrite(connection))
            {
                throw new InvalidOperationException(
                    $"the in-process HTTP server is not listening or has {MaxPendingConnections} connections waiting to be accepted");
            }

            return new InProcessClientStream(toClient.Reader, toServer.Writer, connection);
        }

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await _pending.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                // Null tells Kestrel the listener is gone.
                return null;
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            _pending.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            _pending.Writer.TryComplete();
            while (_pending.Reader.TryRead(out var connection))
            {
                connection.Abort(new ConnectionAbortedException("the in-process HTTP server stopped"));
            }

            return ValueTask.CompletedTask;
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>Kestrel's side of one connection: its pipes, and a token that fires when either side gives up.</summary>
    private sealed class InProcessConnection : ConnectionContext, IConnectionLifetimeFeature, IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionEndPointFeature
    {
        private readonly CancellationTokenSource _closed = new();
        private int _ended;

        public InProcessConnection(string id, EndPoint localEndPoint, IDuplexPipe transport)
        {
            ConnectionId = id;
            LocalEndPoint = localEndPoint;
            Transport = transport;
            ConnectionClosed = _closed.Token;
            Features.Set<IConnectionLifetimeFeature>(this);
            Features.Set<IConnectionIdFeature>(this);
            Features.Set<IConnectionTransportFeature>(this);
            Features.Set<IConnectionItemsFeature>(this);
            Features.Set<IConnectionEndPointFeature>(this);
        }

        public override string ConnectionId { get; set; }

        public override IFeatureCollection Features { get; } = new FeatureCollection();

        public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

        public override IDuplexPipe Transport { get; set; }

        public override void Abort(ConnectionAbortedException abortReason)
        {
            // Kestrel gave up on the connection: the client side reads the failure instead of a clean end.
            Transport.Output.Complete(abortReason);
            Transport.Input.Complete(abortReason);
            End();
        }

        public override void Abort() => Abort(new ConnectionAbortedException("the in-process HTTP connection was aborted"));

        /// <summary>The client side went away: Kestrel stops whatever request it was serving.</summary>
        public void End()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                _closed.Cancel();
            }
        }

        public override ValueTask DisposeAsync()
        {
            // Kestrel leaves ending the connection to the transport (as sockets shut down on dispose): completing
            // our ends gives the tunnel's side an end of stream after the last response byte.
            Transport.Output.Complete();
            Transport.Input.Complete();

            // The token source is left to the GC: the client side may still call End() from another thread.
            End();
            return base.DisposeAsync();
        }
    }

    /// <summary>The tunnel's side of one connection; ending our writes tells Kestrel the request input is over.</summary>
    private sealed class InProcessClientStream(PipeReader input, PipeWriter output, InProcessConnection connection) : Stream, IHalfClosable
    {
        private readonly Stream _reads = input.AsStream();
        private readonly Stream _writes = output.AsStream();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public async ValueTask CompleteWritesAsync(CancellationToken cancellationToken) =>
            await output.CompleteAsync().ConfigureAwait(false);

        public void Abort()
        {
            var aborted = new ConnectionAbortedException("the tunnel was aborted");
            output.Complete(aborted);
            input.Complete(aborted);
            connection.End();
        }

        public override int Read(byte[] buffer, int offset, int count) => _reads.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _reads.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _reads.ReadAsync(buffer, offset, count, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => _writes.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _writes.WriteAsync(buffer, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _writes.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Flush() => _writes.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => _writes.FlushAsync(cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                output.Complete();
                input.Complete();
                connection.End();
            }

            base.Dispose(disposing);
        }
    }
}

using System.Net;
using System.Net.Security;

namespace Connet.Quic;

/// <summary>Settings of a <see cref="QuicListener"/>.</summary>
public sealed class QuicListenerOptions
{
    public IPEndPoint ListenEndPoint { get; set; } = null!;

    /// <summary>Protocols the listener accepts; used when the connection options do not list their own.</summary>
    public List<SslApplicationProtocol> ApplicationProtocols { get; set; } = null!;

    /// <summary>Handshaking and completed connections not yet accepted before new clients are turned away.</summary>
    public int ListenBacklog { get; set; } = QuicDefaults.ListenBacklog;

    /// <summary>
    /// Chooses the options of each incoming connection, when a client's first Initial arrives. The
    /// <see cref="SslClientHelloInfo"/> carries the SNI read from that Initial (empty when the ClientHello does not fit
    /// in the first packet or has no SNI); the connection's other properties are unset until its handshake completes.
    /// </summary>
    public Func<QuicConnection, SslClientHelloInfo, CancellationToken, ValueTask<QuicServerConnectionOptions>> ConnectionOptionsCallback { get; set; } = null!;

    internal void Validate(string argumentName)
    {
        OptionsValidation.NotNull(ListenEndPoint, argumentName);
        OptionsValidation.NotNull(ConnectionOptionsCallback, argumentName);
        if (ApplicationProtocols is not { Count: > 0 })
        {
            throw new ArgumentNullException(argumentName, $"'{nameof(ApplicationProtocols)}' must list at least one protocol.");
        }

        OptionsValidation.InRange(ListenBacklog, 1, int.MaxValue, argumentName);
    }
}

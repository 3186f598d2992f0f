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
    /// Chooses the options of each incoming connection. Invoked when a client's first Initial arrives, before the TLS
    /// handshake starts, so the <see cref="SslClientHelloInfo"/> it receives has an empty ServerName (the ClientHello is
    /// not decrypted ahead of the connection); choose by SNI with <c>ServerCertificateSelectionCallback</c> instead.
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

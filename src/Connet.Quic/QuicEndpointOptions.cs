using System.Net;
using System.Net.Security;
using Microsoft.Extensions.Logging;

namespace Connet.Quic;

/// <summary>
/// Settings of a <see cref="QuicEndpoint"/>: one UDP socket that can dial and, when server options or a callback are
/// set, accept on the same port (what UDP hole punching needs).
/// </summary>
public sealed class QuicEndpointOptions
{
    /// <summary>Address to bind; IPv6Any binds a dual-mode socket that also serves IPv4.</summary>
    public IPEndPoint LocalEndPoint { get; set; } = new(IPAddress.IPv6Any, 0);

    /// <summary>Options for every accepted connection; set this or <see cref="ConnectionOptionsCallback"/> to accept.</summary>
    public QuicServerConnectionOptions? ServerConnectionOptions { get; set; }

    /// <summary>Chooses options per incoming connection (see <see cref="QuicListenerOptions.ConnectionOptionsCallback"/>).</summary>
    public Func<QuicConnection, SslClientHelloInfo, CancellationToken, ValueTask<QuicServerConnectionOptions>>? ConnectionOptionsCallback { get; set; }

    /// <summary>Protocols accepted when the server options do not list their own.</summary>
    public List<SslApplicationProtocol>? ApplicationProtocols { get; set; }

    public int ListenBacklog { get; set; } = QuicDefaults.ListenBacklog;

    /// <summary>Validate each client address with a Retry round trip before spending a handshake on it.</summary>
    public bool RequireRetry { get; set; }

    /// <summary>The length of <see cref="StatelessResetKey"/>.</summary>
    public const int StatelessResetKeyLength = QuicDefaults.StatelessResetKeyLength;

    /// <summary>32-byte key for stateless reset tokens; keep it across restarts to reset stale peers. Null: random per endpoint.</summary>
    public byte[]? StatelessResetKey { get; set; }

    /// <summary>Length of the connection IDs this endpoint issues (4..20).</summary>
    public int ConnectionIdLength { get; set; } = QuicDefaults.ConnectionIdLength;

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    public ILoggerFactory? LoggerFactory { get; set; }

    internal bool IsListening => ServerConnectionOptions is not null || ConnectionOptionsCallback is not null;

    internal void Validate(string argumentName)
    {
        OptionsValidation.NotNull(LocalEndPoint, argumentName);
        OptionsValidation.NotNull(TimeProvider, argumentName);
        OptionsValidation.InRange(ListenBacklog, 1, int.MaxValue, argumentName);
        OptionsValidation.InRange(ConnectionIdLength, 4, 20, argumentName);
        if (StatelessResetKey is not null && StatelessResetKey.Length != QuicDefaults.StatelessResetKeyLength)
        {
            throw new ArgumentException($"'{nameof(StatelessResetKey)}' must be {QuicDefaults.StatelessResetKeyLength} bytes.", argumentName);
        }

        ServerConnectionOptions?.Validate(argumentName);
    }
}

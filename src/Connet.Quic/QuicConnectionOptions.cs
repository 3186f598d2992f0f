using Connet.Quic.Core.Connection;
using Connet.Quic.Core.Tls;

namespace Connet.Quic;

/// <summary>Settings shared by client and server connections. TimeSpan.Zero means the default.</summary>
public abstract class QuicConnectionOptions
{
    internal QuicConnectionOptions()
    {
    }

    /// <summary>Streams the peer may open towards us at once (0 refuses them).</summary>
    public int MaxInboundBidirectionalStreams { get; set; }

    public int MaxInboundUnidirectionalStreams { get; set; }

    /// <summary>Close the connection after this long without traffic (the smaller of both peers' values applies).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.Zero;

    /// <summary>Give up a handshake that has not completed after this long.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = QuicDefaults.HandshakeTimeout;

    /// <summary>Send a PING after this long without sending, keeping NAT bindings alive; Zero disables it.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.Zero;

    /// <summary>Error code used when a stream is disposed without finishing (mandatory; −1 until set).</summary>
    public long DefaultStreamErrorCode { get; set; } = -1;

    /// <summary>Error code used when the connection is disposed without <see cref="QuicConnection.CloseAsync"/> (mandatory; −1 until set).</summary>
    public long DefaultCloseErrorCode { get; set; } = -1;

    public QuicReceiveWindowSizes InitialReceiveWindowSizes { get; set; } = new();

    /// <summary>TLS key exchange groups, most preferred first (Connet extra; null means X25519, P-256, P-384).</summary>
    public IReadOnlyList<QuicKeyExchangeGroup>? KeyExchangeGroups { get; set; }

    internal virtual void Validate(string argumentName)
    {
        OptionsValidation.InRange(MaxInboundBidirectionalStreams, 0, QuicDefaults.MaxStreamCount, argumentName);
        OptionsValidation.InRange(MaxInboundUnidirectionalStreams, 0, QuicDefaults.MaxStreamCount, argumentName);
        OptionsValidation.Timeout(IdleTimeout, argumentName);
        OptionsValidation.Timeout(HandshakeTimeout, argumentName);
        OptionsValidation.Timeout(KeepAliveInterval, argumentName);
        OptionsValidation.ErrorCode(DefaultStreamErrorCode, argumentName);
        OptionsValidation.ErrorCode(DefaultCloseErrorCode, argumentName);
        OptionsValidation.NotNull(InitialReceiveWindowSizes, argumentName);
        InitialReceiveWindowSizes.Validate(argumentName);
        if (KeyExchangeGroups is not null)
        {
            if (KeyExchangeGroups.Count == 0
                || KeyExchangeGroups.Any(group => !Enum.IsDefined(group))
                || KeyExchangeGroups.Distinct().Count() != KeyExchangeGroups.Count)
            {
                throw new ArgumentException($"'{nameof(KeyExchangeGroups)}' must list distinct, defined groups, at least one.", argumentName);
            }
        }
    }

    internal ConnectionOptions ToCoreOptions(int connectionIdLength, byte[]? statelessResetKey) => new()
    {
        IdleTimeout = IdleTimeout == TimeSpan.Zero || IdleTimeout == Timeout.InfiniteTimeSpan ? QuicDefaults.IdleTimeout : IdleTimeout,
        HandshakeTimeout = HandshakeTimeout == TimeSpan.Zero || HandshakeTimeout == Timeout.InfiniteTimeSpan ? QuicDefaults.HandshakeTimeout : HandshakeTimeout,
        KeepAliveInterval = KeepAliveInterval == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : KeepAliveInterval,
        MaxInboundBidirectionalStreams = MaxInboundBidirectionalStreams,
        MaxInboundUnidirectionalStreams = MaxInboundUnidirectionalStreams,
        ConnectionReceiveWindow = InitialReceiveWindowSizes.Connection,
        StreamReceiveWindow = InitialReceiveWindowSizes.Stream,
        LocalConnectionIdLength = connectionIdLength,
        StatelessResetKey = statelessResetKey,
    };

    internal IReadOnlyList<TlsNamedGroup> ToTlsGroups() =>
        (KeyExchangeGroups ?? QuicDefaults.KeyExchangeGroups).Select(group => group switch
        {
            QuicKeyExchangeGroup.Secp256r1 => TlsNamedGroup.Secp256r1,
            QuicKeyExchangeGroup.Secp384r1 => TlsNamedGroup.Secp384r1,
            _ => TlsNamedGroup.X25519,
        }).ToArray();
}

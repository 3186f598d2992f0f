namespace Connet.Quic.Core.Endpoint;

/// <summary>Settings of one <see cref="EndpointCore"/>, already validated by the public API.</summary>
internal sealed class EndpointCoreOptions
{
    /// <summary>Length of the connection IDs our connections issue (4..20); short headers are parsed with it.</summary>
    public int ConnectionIdLength { get; init; } = 8;

    /// <summary>Whether Initials from unknown clients may create server connections.</summary>
    public bool IsListening { get; init; }

    /// <summary>Server connections handed out but not yet accepted by the application, beyond which new ones are dropped.</summary>
    public int AcceptBacklog { get; init; } = 512;

    /// <summary>Validate every client address with a Retry round trip before creating its connection.</summary>
    public bool RequireRetry { get; init; }

    public TimeSpan RetryTokenLifetime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Key our connections derive stateless reset tokens from; null disables sending stateless resets.</summary>
    public byte[]? StatelessResetKey { get; init; }

    /// <summary>Stateless resets sent per second at most, a burst of as many allowed.</summary>
    public int MaxStatelessResetsPerSecond { get; init; } = 64;

    public RandomSource Random { get; init; } = RandomSource.Secure;
}

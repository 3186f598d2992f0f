using System.Net.Security;

namespace Connet.Quic;

/// <summary>Settings of an accepted connection.</summary>
public sealed class QuicServerConnectionOptions : QuicConnectionOptions
{
    public QuicServerConnectionOptions()
    {
        MaxInboundBidirectionalStreams = QuicDefaults.ServerMaxInboundBidirectionalStreams;
        MaxInboundUnidirectionalStreams = QuicDefaults.ServerMaxInboundUnidirectionalStreams;
    }

    /// <summary>TLS settings: certificate (or selection callback), ApplicationProtocols (defaults to the listener's).</summary>
    public SslServerAuthenticationOptions ServerAuthenticationOptions { get; set; } = null!;

    internal override void Validate(string argumentName)
    {
        base.Validate(argumentName);
        OptionsValidation.NotNull(ServerAuthenticationOptions, argumentName);
    }
}

using System.Net;
using System.Net.Security;

namespace Connet.Quic;

/// <summary>Settings of an outgoing connection.</summary>
public sealed class QuicClientConnectionOptions : QuicConnectionOptions
{
    public QuicClientConnectionOptions()
    {
        MaxInboundBidirectionalStreams = QuicDefaults.ClientMaxInboundBidirectionalStreams;
        MaxInboundUnidirectionalStreams = QuicDefaults.ClientMaxInboundUnidirectionalStreams;
    }

    /// <summary>TLS settings: TargetHost, ApplicationProtocols (required), certificate validation.</summary>
    public SslClientAuthenticationOptions ClientAuthenticationOptions { get; set; } = null!;

    /// <summary>The server: an <see cref="IPEndPoint"/> or a <see cref="DnsEndPoint"/> (whose host also becomes the default TargetHost).</summary>
    public EndPoint RemoteEndPoint { get; set; } = null!;

    /// <summary>Local address to bind for <see cref="QuicConnection.ConnectAsync"/>; ignored when dialling from a <see cref="QuicEndpoint"/>.</summary>
    public IPEndPoint? LocalEndPoint { get; set; }

    internal override void Validate(string argumentName)
    {
        base.Validate(argumentName);
        OptionsValidation.NotNull(ClientAuthenticationOptions, argumentName);
        OptionsValidation.NotNull(RemoteEndPoint, argumentName);
        if (RemoteEndPoint is not (IPEndPoint or DnsEndPoint))
        {
            throw new ArgumentException($"'{nameof(RemoteEndPoint)}' must be an IPEndPoint or a DnsEndPoint.", argumentName);
        }

        if (ClientAuthenticationOptions.ApplicationProtocols is not { Count: > 0 })
        {
            throw new ArgumentNullException(argumentName, $"'{nameof(ClientAuthenticationOptions)}.ApplicationProtocols' must list at least one protocol.");
        }
    }
}

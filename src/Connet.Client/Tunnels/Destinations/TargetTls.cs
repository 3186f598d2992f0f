using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Certificates;

namespace Connet.Client.Tunnels.Destinations;

/// <summary>
/// How a destination authenticates a <c>tls://</c> or <c>https://</c> target (Go connet's <c>cas-file</c>, the
/// literal <c>insecure-skip-verify</c>, <c>cert-file</c>/<c>key-file</c>).
/// </summary>
internal sealed class TargetTls
{
    private readonly X509Certificate2Collection _authorities;
    private readonly bool _insecureSkipVerify;
    private readonly X509Certificate2? _clientCertificate;

    public TargetTls(string host, ConnetEndpointOptions options)
    {
        Host = host;
        _authorities = options.CertificateAuthorities;
        _insecureSkipVerify = options.InsecureSkipVerify;
        _clientCertificate = options.Certificate;
    }

    /// <summary>The name the target's certificate must carry, also sent as SNI.</summary>
    public string Host { get; }

    /// <summary>
    /// Accepts anything when insecure, else the target's certificate must carry <see cref="Host"/> and be one of the
    /// authorities or chain to one (the system's trust when there are none).
    /// </summary>
    public bool Validate(X509Certificate? presented, SslPolicyErrors errors) =>
        _insecureSkipVerify || ServerCertificateTrust.IsTrusted(presented, errors, Host, _authorities);

    /// <summary>Fills in the client side of a TLS handshake with the target (SNI, trust, client certificate).</summary>
    public SslClientAuthenticationOptions Apply(SslClientAuthenticationOptions options)
    {
        options.TargetHost = Host;
        options.RemoteCertificateValidationCallback = (_, presented, _, errors) => Validate(presented, errors);
        if (_clientCertificate is not null)
        {
            options.ClientCertificates = [_clientCertificate];
            options.LocalCertificateSelectionCallback = (_, _, _, _, _) => _clientCertificate;
        }

        return options;
    }
}

using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Connet.Quic.Core.Tls;

/// <summary>
/// Validates the peer's certificate chain the way SslStream does: an X509Chain under the configured
/// CertificateChainPolicy (or system trust), name check for servers, then the RemoteCertificateValidationCallback,
/// if any, has the last word. Rejection is a bad_certificate alert whose reason says what was wrong.
/// </summary>
internal static class TlsCertificateValidator
{
    private const string ServerAuthenticationOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthenticationOid = "1.3.6.1.5.5.7.3.2";

    /// <param name="certificates">Leaf first, then any intermediates the peer sent.</param>
    /// <param name="expectedHost">The client's TargetHost when validating a server; null skips the name check.</param>
    public static void Validate(
        IReadOnlyList<X509Certificate2> certificates,
        bool peerIsServer,
        X509ChainPolicy? policy,
        RemoteCertificateValidationCallback? callback,
        object sender,
        string? expectedHost)
    {
        string role = peerIsServer ? "server" : "client";
        string subject = string.IsNullOrEmpty(expectedHost) ? $"The {role} certificate" : $"The {role} certificate for '{expectedHost}'";
        X509Certificate2 leaf = certificates[0];
        using var chain = new X509Chain();
        if (policy is not null)
        {
            chain.ChainPolicy = policy.Clone();
        }
        else
        {
            chain.ChainPolicy.ApplicationPolicy.Add(new Oid(peerIsServer ? ServerAuthenticationOid : ClientAuthenticationOid));
        }

        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        for (int i = 1; i < certificates.Count; i++)
        {
            chain.ChainPolicy.ExtraStore.Add(certificates[i]);
        }

        SslPolicyErrors errors = SslPolicyErrors.None;
        string chainProblems = string.Empty;
        bool built;
        try
        {
            built = chain.Build(leaf);
        }
        catch (CryptographicException)
        {
            built = false;
        }

        if (!built)
        {
            errors |= SslPolicyErrors.RemoteCertificateChainErrors;
            chainProblems = string.Join(", ", chain.ChainStatus.Select(status => status.Status.ToString()).Distinct());
            if (chainProblems.Length == 0)
            {
                chainProblems = "chain could not be built";
            }
        }

        if (peerIsServer && !string.IsNullOrEmpty(expectedHost) && !TlsHostNameMatcher.Matches(leaf, expectedHost))
        {
            errors |= SslPolicyErrors.RemoteCertificateNameMismatch;
        }

        if (callback is not null)
        {
            bool accepted;
            try
            {
                accepted = callback(sender, leaf, chain, errors);
            }
            catch (Exception exception) when (exception is not QuicProtocolException)
            {
                // The handshake runs inside the connection's event loop: a throwing callback must fail this
                // handshake, not the loop.
                throw TlsAlert.Error(TlsAlert.BadCertificate, $"{subject} could not be validated: the RemoteCertificateValidationCallback threw {exception.GetType().Name}: {exception.Message}");
            }

            if (!accepted)
            {
                throw TlsAlert.Error(
                    TlsAlert.BadCertificate,
                    $"{subject} was rejected by the RemoteCertificateValidationCallback (policy errors: {errors}).");
            }

            return;
        }

        if (errors != SslPolicyErrors.None)
        {
            var problems = new List<string>();
            if (chainProblems.Length > 0)
            {
                problems.Add($"chain error {chainProblems}");
            }

            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
            {
                problems.Add("name mismatch");
            }

            throw TlsAlert.Error(TlsAlert.BadCertificate, $"{subject} is not trusted: {string.Join("; ", problems)}.");
        }
    }
}

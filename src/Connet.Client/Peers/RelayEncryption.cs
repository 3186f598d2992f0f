using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Core.Certificates;
using Connet.Core.Crypto;
using Connet.Core.Protocol;
using Connet.Core.Protocol.Wire.Peer;
using Connet.Quic;
using Google.Protobuf;

namespace Connet.Client.Peers;

/// <summary>A remote peer's announced leaves, looked up by its server certificate's DNS name.</summary>
internal sealed record RemotePeerCertificates(X509Certificate2 Server, X509Certificate2 Client);

/// <summary>What one endpoint needs to negotiate relay encryption: its certificates, its list, and its announced peers.</summary>
/// <param name="FindRemote">The announced remote peer (of the opposite role) whose server certificate has this DNS name, if any.</param>
internal sealed record RelayEncryptionSettings(
    PeerCertificates Local,
    IReadOnlyList<ConnetRelayEncryption> Encryptions,
    Func<string, RemotePeerCertificates?> FindRemote,
    TimeProvider TimeProvider);

/// <summary>
/// Relay encryption (connet-protocol.md §2.6): the destination picks tls if both lists have it, else dhxcp, else
/// none; then both ends upgrade the relayed stream. The relay only sees the negotiation and ciphertext.
/// </summary>
internal static class RelayEncryption
{
    /// <summary>How long the TLS handshake inside a relayed stream may take.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(10);

    public static RelayEncryptionScheme ToWire(ConnetRelayEncryption encryption) => encryption switch
    {
        ConnetRelayEncryption.None => RelayEncryptionScheme.EncryptionNone,
        ConnetRelayEncryption.Tls => RelayEncryptionScheme.Tls,
        ConnetRelayEncryption.Dhxcp => RelayEncryptionScheme.Dhx25519Chachapoly,
        _ => throw new ArgumentOutOfRangeException(nameof(encryption), encryption, "Not a relay encryption."),
    };

    public static string Describe(IEnumerable<RelayEncryptionScheme> schemes) =>
        "[" + string.Join(", ", schemes.Select(scheme => scheme switch
        {
            RelayEncryptionScheme.EncryptionNone => "none",
            RelayEncryptionScheme.Tls => "tls",
            RelayEncryptionScheme.Dhx25519Chachapoly => "dhxcp",
            _ => $"unknown({(int)scheme})",
        })) + "]";

    /// <summary>The destination's choice; null when the lists share nothing.</summary>
    /// <param name="source">The source's offer; empty means [none] (Go connet before relay encryption).</param>
    public static RelayEncryptionScheme? Select(IReadOnlyCollection<RelayEncryptionScheme> source, IReadOnlyCollection<RelayEncryptionScheme> destination)
    {
        IReadOnlyCollection<RelayEncryptionScheme> offered = source.Count == 0 ? [RelayEncryptionScheme.EncryptionNone] : source;
        foreach (var preferred in (ReadOnlySpan<RelayEncryptionScheme>)[RelayEncryptionScheme.Tls, RelayEncryptionScheme.Dhx25519Chachapoly, RelayEncryptionScheme.EncryptionNone])
        {
            if (offered.Contains(preferred) && destination.Contains(preferred))
            {
                return preferred;
            }
        }

        return null;
    }

    /// <summary>
    /// The destination side: checks the source's offer against our list and the announced sources, and returns the
    /// answer to write plus the upgrade to run on the stream once the answer is written.
    /// </summary>
    /// <exception cref="ConnetProtocolException">DestinationRelayEncryptionError naming why: no common scheme, an unknown source, a bad signature.</exception>
    public static DestinationUpgrade NegotiateDestination(Request.Types.Connect request, RelayEncryptionSettings settings)
    {
        RelayEncryptionScheme[] ours = [.. settings.Encryptions.Select(ToWire)];
        RelayEncryptionScheme chosen = Select(request.SourceEncryption, ours)
            ?? throw new ConnetProtocolException(
                ConnetErrorCode.DestinationRelayEncryptionError,
                $"no common relay encryption: the source offers {Describe(request.SourceEncryption.Count == 0 ? [RelayEncryptionScheme.EncryptionNone] : request.SourceEncryption)}, the destination accepts {Describe(ours)}");
        var answer = new Response.Types.Connect { DestinationEncryption = chosen };
        switch (chosen)
        {
            case RelayEncryptionScheme.Tls:
                {
                    string sourceName = request.SourceTls?.ClientName ?? string.Empty;
                    RemotePeerCertificates source = FindOrThrow(settings, sourceName, "source_tls");
                    answer.DestinationTls = new TLSConfiguration { ClientName = settings.Local.ServerName };
                    return new DestinationUpgrade(answer, (stream, cancellationToken) => AcceptTlsAsync(stream, settings.Local, source.Client, cancellationToken));
                }

            case RelayEncryptionScheme.Dhx25519Chachapoly:
                {
                    ECDHConfiguration offer = request.SourceDhX25519
                        ?? throw new ConnetProtocolException(ConnetErrorCode.DestinationRelayEncryptionError, "dhxcp chosen but the source sent no source_dh_x25519");
                    RemotePeerCertificates source = FindOrThrow(settings, offer.ClientName, "source_dh_x25519");
                    DhxcpPeerKey sourceKey = VerifyKeyTime(offer, source.Server, settings.TimeProvider, "source");
                    var keyPair = DhxcpKeyPair.Generate();
                    answer.DestinationDhX25519 = SignedKeyTime(keyPair, settings);
                    DhxcpKeys keys = DhxcpKeys.Derive(keyPair, sourceKey.PublicKey.Span, DhxcpRole.Destination);
                    return new DestinationUpgrade(answer, (stream, _) => ValueTask.FromResult<Stream>(new RelayTunnelStream(new DhxcpStream(stream, keys), stream)));
                }

            default:
                return new DestinationUpgrade(answer, (stream, _) => ValueTask.FromResult<Stream>(stream));
        }
    }

    /// <summary>The source side: our offer for <c>Request.Connect</c>, and how to upgrade once the destination answered.</summary>
    public static SourceOffer OfferFromSource(RelayEncryptionSettings settings)
    {
        var request = new Request.Types.Connect();
        request.SourceEncryption.AddRange(settings.Encryptions.Select(ToWire));
        DhxcpKeyPair? keyPair = null;
        if (settings.Encryptions.Contains(ConnetRelayEncryption.Tls))
        {
            request.SourceTls = new TLSConfiguration { ClientName = settings.Local.ServerName };
        }

        if (settings.Encryptions.Contains(ConnetRelayEncryption.Dhxcp))
        {
            keyPair = DhxcpKeyPair.Generate();
            request.SourceDhX25519 = SignedKeyTime(keyPair, settings);
        }

        return new SourceOffer(request, keyPair, settings);
    }

    private static RemotePeerCertificates FindOrThrow(RelayEncryptionSettings settings, string serverName, string field) =>
        settings.FindRemote(serverName)
            ?? throw new ConnetProtocolException(
                ConnetErrorCode.DestinationRelayEncryptionError,
                string.IsNullOrEmpty(serverName) ? $"{field} names no peer" : $"{field} names {serverName}, which is not an announced peer of this endpoint");

    private static ECDHConfiguration SignedKeyTime(DhxcpKeyPair keyPair, RelayEncryptionSettings settings)
    {
        byte[] keyTime = DhxcpKeyMaterial.CreateKeyTime(keyPair, settings.TimeProvider);
        using ECDsa signingKey = settings.Local.Server.GetECDsaPrivateKey()
            ?? throw new InvalidOperationException("The server certificate has no ECDSA private key.");
        return new ECDHConfiguration
        {
            ClientName = settings.Local.ServerName,
            KeyTime = ByteString.CopyFrom(keyTime),
            Signature = ByteString.CopyFrom(DhxcpKeyMaterial.Sign(keyTime, signingKey)),
        };
    }

    private static DhxcpPeerKey VerifyKeyTime(ECDHConfiguration configuration, X509Certificate2 signer, TimeProvider timeProvider, string side)
    {
        using ECDsa? verificationKey = signer.GetECDsaPublicKey();
        if (verificationKey is null)
        {
            throw new ConnetProtocolException(ConnetErrorCode.DestinationRelayEncryptionError, $"the {side}'s server certificate has no ECDSA key to verify dhxcp with");
        }

        try
        {
            return DhxcpKeyMaterial.Verify(configuration.KeyTime.Span, configuration.Signature.Span, verificationKey, timeProvider);
        }
        catch (CryptographicException exception)
        {
            throw new ConnetProtocolException(ConnetErrorCode.DestinationRelayEncryptionError, $"the {side}'s dhxcp key is refused: {exception.Message}", exception);
        }
    }

    private static async ValueTask<Stream> AcceptTlsAsync(QuicStream stream, PeerCertificates local, X509Certificate2 sourceClient, CancellationToken cancellationToken)
    {
        string? pinFailure = null;
        var tls = new SslStream(stream, leaveInnerStreamOpen: true);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(HandshakeTimeout);
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = SslStreamCertificateContext.Create(local.Server, additionalCertificates: null, offline: true),
                ClientCertificateRequired = true,
                EnabledSslProtocols = SslProtocols.Tls13,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, certificate, _, _) => Pinned(certificate, sourceClient, PeerCertificates.ClientAuthentication, out pinFailure),
            }, timeout.Token).ConfigureAwait(false);
            return new RelayTunnelStream(tls, stream);
        }
        catch (AuthenticationException exception)
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw new ConnetProtocolException(ConnetErrorCode.DestinationRelayEncryptionError, $"relay tls handshake with the source failed: {pinFailure ?? exception.Message}", exception);
        }
        catch
        {
            await tls.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static bool Pinned(X509Certificate? presented, X509Certificate2 pinned, Oid purpose, out string? failure)
    {
        if (presented is not X509Certificate2 certificate)
        {
            failure = "no certificate presented";
            return false;
        }

        return PeerCertificates.VerifyPinned(certificate, pinned, purpose, out failure);
    }

    /// <summary>The destination's answer and the upgrade of the relayed stream to run after writing it.</summary>
    internal sealed record DestinationUpgrade(Response.Types.Connect Answer, Func<QuicStream, CancellationToken, ValueTask<Stream>> UpgradeAsync);

    /// <summary>The source's offer; <see cref="UpgradeAsync"/> checks the destination's choice and upgrades the stream.</summary>
    internal sealed class SourceOffer(Request.Types.Connect request, DhxcpKeyPair? keyPair, RelayEncryptionSettings settings)
    {
        public Request.Types.Connect Request { get; } = request;

        /// <exception cref="ConnetProtocolException">The destination chose outside our list, or proved to be no announced destination.</exception>
        public async ValueTask<Stream> UpgradeAsync(QuicStream stream, Response.Types.Connect answer, CancellationToken cancellationToken)
        {
            RelayEncryptionScheme chosen = answer.DestinationEncryption;
            if (!Request.SourceEncryption.Contains(chosen))
            {
                throw new ConnetProtocolException(
                    ConnetErrorCode.DestinationRelayEncryptionError,
                    $"the destination chose relay encryption {Describe([chosen])}, which is not in our list {Describe(Request.SourceEncryption)}");
            }

            switch (chosen)
            {
                case RelayEncryptionScheme.Tls:
                    {
                        string destinationName = answer.DestinationTls?.ClientName ?? string.Empty;
                        RemotePeerCertificates destination = FindOrThrow(settings, destinationName, "destination_tls");
                        return await ConnectTlsAsync(stream, destinationName, destination.Server, cancellationToken).ConfigureAwait(false);
                    }

                case RelayEncryptionScheme.Dhx25519Chachapoly:
                    {
                        ECDHConfiguration offer = answer.DestinationDhX25519
                            ?? throw new ConnetProtocolException(ConnetErrorCode.DestinationRelayEncryptionError, "dhxcp chosen but the destination sent no destination_dh_x25519");
                        RemotePeerCertificates destination = FindOrThrow(settings, offer.ClientName, "destination_dh_x25519");
                        DhxcpPeerKey destinationKey = VerifyKeyTime(offer, destination.Server, settings.TimeProvider, "destination");
                        DhxcpKeys keys = DhxcpKeys.Derive(keyPair!, destinationKey.PublicKey.Span, DhxcpRole.Source);
                        return new RelayTunnelStream(new DhxcpStream(stream, keys), stream);
                    }

                default:
                    return stream;
            }
        }

        private async ValueTask<Stream> ConnectTlsAsync(QuicStream stream, string destinationName, X509Certificate2 destinationServer, CancellationToken cancellationToken)
        {
            string? pinFailure = null;
            var tls = new SslStream(stream, leaveInnerStreamOpen: true);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(HandshakeTimeout);
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = destinationName,
                    ClientCertificateContext = SslStreamCertificateContext.Create(settings.Local.Client, additionalCertificates: null, offline: true),
                    EnabledSslProtocols = SslProtocols.Tls13,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                    RemoteCertificateValidationCallback = (_, certificate, _, _) => Pinned(certificate, destinationServer, PeerCertificates.ServerAuthentication, out pinFailure),
                }, timeout.Token).ConfigureAwait(false);
                return new RelayTunnelStream(tls, stream);
            }
            catch (AuthenticationException exception)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
                throw new ConnetProtocolException(ConnetErrorCode.DestinationRelayEncryptionError, $"relay tls handshake with the destination failed: {pinFailure ?? exception.Message}", exception);
            }
            catch
            {
                await tls.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
    }
}

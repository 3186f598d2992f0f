using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Core.Tls;

/// <summary>
/// The server side of the TLS 1.3 handshake for QUIC. It answers the first usable ClientHello with its whole first
/// flight and derives 1-RTT secrets right after its Finished (RFC 9001 §4.1.4); HelloRetryRequest when the client sent
/// no share for a group both support.
/// </summary>
internal sealed class TlsServerSession : TlsSessionBase
{
    private readonly TlsServerConfig _config;
    private readonly SslServerAuthenticationOptions _authentication;
    private State _state = State.WaitClientHello;
    private TlsNamedGroup? _retryGroup;
    private CipherSuite _retrySuite;

    public TlsServerSession(TlsServerConfig config, byte[] localTransportParameters)
        : base(localTransportParameters)
    {
        _config = config;
        _authentication = config.Authentication;
        if (config.Groups.Count == 0 || config.CipherSuites.Count == 0)
        {
            throw new ArgumentException("At least one key exchange group and one cipher suite must be configured.", nameof(config));
        }
    }

    private enum State
    {
        WaitClientHello,
        WaitRetriedClientHello,
        WaitCertificate,
        WaitCertificateVerify,
        WaitFinished,
        Connected,
    }

    public override bool IsClient => false;

    protected override void HandleMessage(TlsHandshakeType type, byte[] message)
    {
        switch (_state, type)
        {
            case (State.WaitClientHello or State.WaitRetriedClientHello, TlsHandshakeType.ClientHello):
                HandleClientHello(message);
                break;
            case (State.WaitCertificate, TlsHandshakeType.Certificate):
                ReceiveCertificate(message, _authentication.CertificateChainPolicy, _authentication.RemoteCertificateValidationCallback, _config.CallbackSender, expectedHost: null);
                if (PeerChain.Count == 0)
                {
                    throw TlsAlert.Error(TlsAlert.CertificateRequired, "The client did not send the certificate the server requires.");
                }

                _state = State.WaitCertificateVerify;
                break;
            case (State.WaitCertificateVerify, TlsHandshakeType.CertificateVerify):
                VerifyPeerCertificateVerify(message);
                _state = State.WaitFinished;
                break;
            case (State.WaitFinished, TlsHandshakeType.Finished):
                VerifyPeerFinished(message, KeySchedule!.ClientHandshakeTrafficSecret);
                ReadLevel = EncryptionLevel.OneRtt;
                _state = State.Connected;
                IsHandshakeComplete = true;
                break;
            default:
                throw Unexpected(type, $"in server state {_state}");
        }
    }

    protected override void DisposeKeyShares()
    {
    }

    private void HandleClientHello(byte[] message)
    {
        TlsClientHello hello = TlsClientHello.Parse(Body(message));
        bool isRetry = _state == State.WaitRetriedClientHello;
        if (!hello.SupportedVersions.Contains(TlsClientHello.Tls13Version))
        {
            throw TlsAlert.Error(TlsAlert.ProtocolVersion, "The client does not offer TLS 1.3.");
        }

        if (hello.LegacySessionIdLength != 0)
        {
            throw new QuicProtocolException(TransportErrorCode.ProtocolViolation, "ClientHello has a legacy_session_id, which QUIC forbids (RFC 9001 §8.4).");
        }

        hello.Extensions.GetRequired(TlsExtensionType.SupportedGroups, "ClientHello");
        hello.Extensions.GetRequired(TlsExtensionType.KeyShare, "ClientHello");
        hello.Extensions.GetRequired(TlsExtensionType.SignatureAlgorithms, "ClientHello");
        byte[] transportParameters = hello.TransportParameters ??
            throw TlsAlert.Error(TlsAlert.MissingExtension, "The ClientHello lacks the quic_transport_parameters extension.");

        CipherSuite suite = _config.CipherSuites.FirstOrDefault(s => hello.CipherSuites.Contains((ushort)s));
        if (suite == default)
        {
            throw TlsAlert.Error(TlsAlert.HandshakeFailure, "The client offers no cipher suite the server accepts.");
        }

        if (isRetry && suite != _retrySuite)
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, "The retried ClientHello changes the cipher suites.");
        }

        byte[] protocol = SelectApplicationProtocol(hello);
        ServerName = hello.ServerName;

        TlsNamedGroup group;
        byte[] clientKey;
        if (_retryGroup is { } retryGroup)
        {
            int index = hello.KeyShares.FindIndex(share => share.Group == (ushort)retryGroup);
            if (index < 0 || hello.KeyShares.Count != 1)
            {
                throw TlsAlert.Error(TlsAlert.IllegalParameter, $"The retried ClientHello does not carry exactly one key share for the requested {retryGroup}.");
            }

            group = retryGroup;
            clientKey = hello.KeyShares[index].KeyExchange;
        }
        else
        {
            TlsNamedGroup? shared = _config.Groups.Cast<TlsNamedGroup?>().FirstOrDefault(g => hello.KeyShares.Exists(share => share.Group == (ushort)g!.Value));
            if (shared is null)
            {
                TlsNamedGroup? common = _config.Groups.Cast<TlsNamedGroup?>().FirstOrDefault(g => hello.SupportedGroups.Contains((ushort)g!.Value));
                if (common is null)
                {
                    throw TlsAlert.Error(TlsAlert.HandshakeFailure, "The client supports no key exchange group the server accepts.");
                }

                SendHelloRetryRequest(message, suite, common.Value);
                return;
            }

            group = shared.Value;
            clientKey = hello.KeyShares.Find(share => share.Group == (ushort)group).KeyExchange;
        }

        List<X509Certificate2> chain = SelectServerCertificate(hello.ServerName);
        PeerTransportParameters = transportParameters;
        NegotiatedApplicationProtocol = protocol;
        KeySchedule = new TlsKeySchedule(suite);
        Transcript.StartHash(suite.HashAlgorithm());
        Transcript.Append(message);

        byte[] sharedSecret;
        byte[] serverKey;
        using (TlsKeyShare keyShare = TlsKeyShare.Create(group))
        {
            sharedSecret = keyShare.DeriveSharedSecret(clientKey);
            serverKey = keyShare.PublicKey;
        }

        byte[] random = new byte[32];
        RandomNumberGenerator.Fill(random);
        Send(EncryptionLevel.Initial, TlsServerHello.Encode(random, suite, group, serverKey));
        KeySchedule.DeriveHandshakeSecrets(sharedSecret, Transcript.CurrentHash());
        CryptographicOperations.ZeroMemory(sharedSecret);
        EmitSecrets(EncryptionLevel.Handshake, KeySchedule.ClientHandshakeTrafficSecret, KeySchedule.ServerHandshakeTrafficSecret);

        Send(EncryptionLevel.Handshake, EncodeEncryptedExtensions(protocol));
        bool requestCertificate = _authentication.ClientCertificateRequired;
        if (requestCertificate)
        {
            Send(EncryptionLevel.Handshake, EncodeCertificateRequest());
        }

        SendCertificateAndVerify(EncryptionLevel.Handshake, chain, hello.SignatureAlgorithms);
        SendFinished(EncryptionLevel.Handshake, KeySchedule.ServerHandshakeTrafficSecret);
        KeySchedule.DeriveApplicationSecrets(Transcript.CurrentHash());
        EmitSecrets(EncryptionLevel.OneRtt, KeySchedule.ClientApplicationTrafficSecret, KeySchedule.ServerApplicationTrafficSecret);
        ReadLevel = EncryptionLevel.Handshake;
        _state = requestCertificate ? State.WaitCertificate : State.WaitFinished;
    }

    private void SendHelloRetryRequest(byte[] clientHello, CipherSuite suite, TlsNamedGroup group)
    {
        _retryGroup = group;
        _retrySuite = suite;
        Transcript.StartHash(suite.HashAlgorithm());
        Transcript.Append(clientHello);
        Transcript.ReplaceWithMessageHash();
        Send(EncryptionLevel.Initial, TlsServerHello.Encode([], suite, group, keyExchange: null));
        _state = State.WaitRetriedClientHello;
    }

    /// <summary>Our first preference among the client's offers (RFC 7301 §3.2); QUIC makes ALPN mandatory (RFC 9001 §8.1).</summary>
    private byte[] SelectApplicationProtocol(TlsClientHello hello)
    {
        if (!hello.HasApplicationProtocols)
        {
            throw TlsAlert.Error(TlsAlert.NoApplicationProtocol, "The ClientHello offers no application protocol (ALPN is mandatory in QUIC).");
        }

        foreach (SslApplicationProtocol ours in _authentication.ApplicationProtocols ?? [])
        {
            byte[]? match = hello.ApplicationProtocols.Find(offered => ours.Protocol.Span.SequenceEqual(offered));
            if (match is not null)
            {
                return match;
            }
        }

        throw TlsAlert.Error(TlsAlert.NoApplicationProtocol, "The client offers no application protocol the server supports.");
    }

    private List<X509Certificate2> SelectServerCertificate(string? serverName)
    {
        X509Certificate? selected;
        IEnumerable<X509Certificate2> intermediates = [];
        if (_authentication.ServerCertificateSelectionCallback is { } select)
        {
            try
            {
                selected = select(_config.CallbackSender ?? this, serverName);
            }
            catch (Exception exception) when (exception is not QuicProtocolException)
            {
                throw TlsAlert.Error(TlsAlert.InternalError, $"The ServerCertificateSelectionCallback threw {exception.GetType().Name}: {exception.Message}");
            }
        }
        else if (_authentication.ServerCertificateContext is { } context)
        {
            selected = context.TargetCertificate;
            intermediates = context.IntermediateCertificates;
        }
        else
        {
            selected = _authentication.ServerCertificate;
        }

        if (selected is not X509Certificate2 certificate || !CanSign(certificate))
        {
            throw TlsAlert.Error(TlsAlert.InternalError, "No server certificate with a private key is configured.");
        }

        return [certificate, .. intermediates];
    }

    private byte[] EncodeEncryptedExtensions(byte[] protocol)
    {
        byte[] buffer = new byte[64 + protocol.Length + LocalTransportParameters.Length];
        var w = new SpanWriter(buffer);
        TlsVectorMark message = w.BeginMessage(TlsHandshakeType.EncryptedExtensions);
        TlsVectorMark extensions = w.BeginVector(2);
        TlsVectorMark alpn = w.BeginExtension(TlsExtensionType.ApplicationLayerProtocolNegotiation);
        TlsVectorMark list = w.BeginVector(2);
        w.WriteVector(1, protocol);
        w.EndVector(list);
        w.EndVector(alpn);
        TlsVectorMark tp = w.BeginExtension(TlsExtensionType.QuicTransportParameters);
        w.WriteBytes(LocalTransportParameters);
        w.EndVector(tp);
        w.EndVector(extensions);
        w.EndVector(message);
        return buffer.AsSpan(0, w.Position).ToArray();
    }

    private static byte[] EncodeCertificateRequest()
    {
        byte[] buffer = new byte[64 + (2 * TlsSignatures.VerifiableSchemes.Count)];
        var w = new SpanWriter(buffer);
        TlsVectorMark message = w.BeginMessage(TlsHandshakeType.CertificateRequest);
        w.WriteByte(0);
        TlsVectorMark extensions = w.BeginVector(2);
        TlsVectorMark signatures = w.BeginExtension(TlsExtensionType.SignatureAlgorithms);
        TlsVectorMark list = w.BeginVector(2);
        foreach (TlsSignatureScheme scheme in TlsSignatures.VerifiableSchemes)
        {
            w.WriteUInt16((ushort)scheme);
        }

        w.EndVector(list);
        w.EndVector(signatures);
        w.EndVector(extensions);
        w.EndVector(message);
        return buffer.AsSpan(0, w.Position).ToArray();
    }
}

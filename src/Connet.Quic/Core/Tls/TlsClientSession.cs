using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Crypto;

namespace Connet.Quic.Core.Tls;

/// <summary>The client side of the TLS 1.3 handshake for QUIC (RFC 8446 §2, RFC 9001 §4), without PSK or 0-RTT.</summary>
internal sealed class TlsClientSession : TlsSessionBase
{
    private readonly TlsClientConfig _config;
    private readonly SslClientAuthenticationOptions _authentication;
    private readonly byte[] _random = new byte[32];
    private readonly List<ReadOnlyMemory<byte>> _applicationProtocols;
    private State _state = State.Start;
    private TlsKeyShare? _keyShare;
    private ushort? _retryCipherSuite;
    private List<ushort>? _certificateRequestSchemes;

    public TlsClientSession(TlsClientConfig config, byte[] localTransportParameters)
        : base(localTransportParameters)
    {
        _config = config;
        _authentication = config.Authentication;
        _applicationProtocols = (_authentication.ApplicationProtocols ?? []).Select(protocol => protocol.Protocol).ToList();
        if (_applicationProtocols.Count == 0 || _applicationProtocols.Exists(p => p.Length is 0 or > 255))
        {
            throw new ArgumentException("QUIC requires at least one application protocol (ALPN) of 1 to 255 bytes.", nameof(config));
        }

        if (config.Groups.Count == 0 || config.CipherSuites.Count == 0)
        {
            throw new ArgumentException("At least one key exchange group and one cipher suite must be configured.", nameof(config));
        }

        string? host = _authentication.TargetHost;
        ServerName = string.IsNullOrEmpty(host) || IPAddress.TryParse(host, out _) ? null : host.TrimEnd('.');
        RandomNumberGenerator.Fill(_random);
    }

    private enum State
    {
        Start,
        WaitServerHello,
        WaitEncryptedExtensions,
        WaitCertificateOrRequest,
        WaitCertificate,
        WaitCertificateVerify,
        WaitFinished,
        Connected,
    }

    public override bool IsClient => true;

    public override void Start()
    {
        if (_state != State.Start)
        {
            throw new InvalidOperationException("The TLS client handshake was already started.");
        }

        _keyShare = TlsKeyShare.Create(_config.Groups[0]);
        SendClientHello(cookie: []);
    }

    protected override void HandleMessage(TlsHandshakeType type, byte[] message)
    {
        switch (_state, type)
        {
            case (State.WaitServerHello, TlsHandshakeType.ServerHello):
                HandleServerHello(message);
                break;
            case (State.WaitEncryptedExtensions, TlsHandshakeType.EncryptedExtensions):
                HandleEncryptedExtensions(message);
                break;
            case (State.WaitCertificateOrRequest, TlsHandshakeType.CertificateRequest):
                HandleCertificateRequest(message);
                break;
            case (State.WaitCertificateOrRequest or State.WaitCertificate, TlsHandshakeType.Certificate):
                ReceiveCertificate(message, _authentication.CertificateChainPolicy, _authentication.RemoteCertificateValidationCallback, _config.CallbackSender, _authentication.TargetHost);
                if (PeerChain.Count == 0)
                {
                    throw TlsAlert.Decode("the server sent an empty Certificate message");
                }

                _state = State.WaitCertificateVerify;
                break;
            case (State.WaitCertificateVerify, TlsHandshakeType.CertificateVerify):
                VerifyPeerCertificateVerify(message);
                _state = State.WaitFinished;
                break;
            case (State.WaitFinished, TlsHandshakeType.Finished):
                HandleFinished(message);
                break;
            case (State.Connected, TlsHandshakeType.NewSessionTicket):
                // Resumption is not supported, so tickets are dropped unread.
                break;
            default:
                throw Unexpected(type, $"in client state {_state}");
        }
    }

    protected override void DisposeKeyShares()
    {
        _keyShare?.Dispose();
        _keyShare = null;
    }

    private void SendClientHello(ReadOnlySpan<byte> cookie)
    {
        Send(EncryptionLevel.Initial, TlsClientHello.Encode(
            _random, _config.CipherSuites, ServerName, _config.Groups, _keyShare!, _applicationProtocols, LocalTransportParameters, cookie));
        _state = State.WaitServerHello;
    }

    private void HandleServerHello(byte[] message)
    {
        TlsServerHello hello = TlsServerHello.Parse(Body(message));
        string name = hello.IsHelloRetryRequest ? "HelloRetryRequest" : "ServerHello";
        if (hello.SelectedVersion != TlsClientHello.Tls13Version)
        {
            throw TlsAlert.Error(TlsAlert.ProtocolVersion, $"The {name} does not select TLS 1.3.");
        }

        if (hello.LegacySessionIdLength != 0)
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, $"The {name} echoes a session ID the client did not send.");
        }

        if (!_config.CipherSuites.Contains((CipherSuite)hello.CipherSuite))
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, $"The {name} selects cipher suite 0x{hello.CipherSuite:x4}, which was not offered.");
        }

        var suite = (CipherSuite)hello.CipherSuite;
        if (hello.IsHelloRetryRequest)
        {
            HandleHelloRetryRequest(hello, suite, message);
            return;
        }

        if (_retryCipherSuite is { } retrySuite && retrySuite != hello.CipherSuite)
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, "The ServerHello selects a different cipher suite than the HelloRetryRequest.");
        }

        if (hello.KeyShareGroup != (ushort)_keyShare!.Group)
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, $"The ServerHello key share is for group 0x{hello.KeyShareGroup:x4}, not the offered {_keyShare.Group}.");
        }

        KeySchedule = new TlsKeySchedule(suite);
        Transcript.StartHash(suite.HashAlgorithm());
        Transcript.Append(message);
        byte[] sharedSecret = _keyShare.DeriveSharedSecret(hello.KeyExchange);
        KeySchedule.DeriveHandshakeSecrets(sharedSecret, Transcript.CurrentHash());
        CryptographicOperations.ZeroMemory(sharedSecret);
        DisposeKeyShares();
        EmitSecrets(EncryptionLevel.Handshake, KeySchedule.ClientHandshakeTrafficSecret, KeySchedule.ServerHandshakeTrafficSecret);
        ReadLevel = EncryptionLevel.Handshake;
        _state = State.WaitEncryptedExtensions;
    }

    private void HandleHelloRetryRequest(TlsServerHello retry, CipherSuite suite, byte[] message)
    {
        if (_retryCipherSuite is not null)
        {
            throw TlsAlert.Error(TlsAlert.UnexpectedMessage, "The server sent a second HelloRetryRequest.");
        }

        bool changesKeyShare = retry.KeyShareGroup != 0;
        if (changesKeyShare &&
            (!_config.Groups.Contains((TlsNamedGroup)retry.KeyShareGroup) || retry.KeyShareGroup == (ushort)_keyShare!.Group))
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, $"The HelloRetryRequest asks for group 0x{retry.KeyShareGroup:x4}, which was not offered or already has a share.");
        }

        if (!changesKeyShare && retry.Cookie is null)
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, "The HelloRetryRequest would not change the ClientHello.");
        }

        _retryCipherSuite = retry.CipherSuite;
        Transcript.StartHash(suite.HashAlgorithm());
        Transcript.ReplaceWithMessageHash();
        Transcript.Append(message);
        if (changesKeyShare)
        {
            DisposeKeyShares();
            _keyShare = TlsKeyShare.Create((TlsNamedGroup)retry.KeyShareGroup);
        }

        SendClientHello(retry.Cookie ?? []);
    }

    private void HandleEncryptedExtensions(byte[] message)
    {
        ReadOnlyMemory<byte> body = Body(message);
        var reader = new SpanReader(body.Span);
        TlsExtensions extensions = TlsExtensions.Read(ref reader, body, "EncryptedExtensions");
        reader.ExpectEnd("EncryptedExtensions");
        extensions.RejectAny(
            [
                TlsExtensionType.KeyShare, TlsExtensionType.SupportedVersions, TlsExtensionType.SignatureAlgorithms,
                TlsExtensionType.SignatureAlgorithmsCert, TlsExtensionType.Cookie, TlsExtensionType.PreSharedKey,
                TlsExtensionType.PskKeyExchangeModes, TlsExtensionType.CertificateAuthorities, TlsExtensionType.EarlyData,
            ],
            "EncryptedExtensions");

        if (!extensions.TryGet(TlsExtensionType.ApplicationLayerProtocolNegotiation, out ReadOnlyMemory<byte> alpnBody))
        {
            throw TlsAlert.Error(TlsAlert.NoApplicationProtocol, "The server did not select an application protocol (ALPN).");
        }

        List<byte[]> selected = TlsClientHello.ParseProtocolList(alpnBody.Span);
        if (selected.Count != 1 || !_applicationProtocols.Exists(p => p.Span.SequenceEqual(selected[0])))
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, "The server's ALPN selection is not exactly one of the offered protocols.");
        }

        PeerTransportParameters = extensions.GetRequired(TlsExtensionType.QuicTransportParameters, "server's EncryptedExtensions").ToArray();
        NegotiatedApplicationProtocol = selected[0];
        Transcript.Append(message);
        _state = State.WaitCertificateOrRequest;
    }

    private void HandleCertificateRequest(byte[] message)
    {
        ReadOnlyMemory<byte> body = Body(message);
        var reader = new SpanReader(body.Span);
        if (reader.ReadVector(1, 0, 255, "certificate_request_context").Length != 0)
        {
            throw TlsAlert.Error(TlsAlert.IllegalParameter, "CertificateRequest carries a context during the handshake.");
        }

        TlsExtensions extensions = TlsExtensions.Read(ref reader, body, "CertificateRequest");
        reader.ExpectEnd("CertificateRequest");
        var schemes = new SpanReader(extensions.GetRequired(TlsExtensionType.SignatureAlgorithms, "CertificateRequest").Span);
        _certificateRequestSchemes = schemes.ReadUInt16List(2, 2, "signature_algorithms");
        schemes.ExpectEnd("signature_algorithms");
        Transcript.Append(message);
        _state = State.WaitCertificate;
    }

    private void HandleFinished(byte[] message)
    {
        TlsKeySchedule schedule = KeySchedule!;
        VerifyPeerFinished(message, schedule.ServerHandshakeTrafficSecret);
        schedule.DeriveApplicationSecrets(Transcript.CurrentHash());
        if (_certificateRequestSchemes is not null)
        {
            List<X509Certificate2>? chain = SelectClientCertificate();
            if (chain is null)
            {
                Send(EncryptionLevel.Handshake, TlsCertificateMessage.Encode([]));
            }
            else
            {
                SendCertificateAndVerify(EncryptionLevel.Handshake, chain, _certificateRequestSchemes);
            }
        }

        SendFinished(EncryptionLevel.Handshake, schedule.ClientHandshakeTrafficSecret);
        EmitSecrets(EncryptionLevel.OneRtt, schedule.ClientApplicationTrafficSecret, schedule.ServerApplicationTrafficSecret);
        ReadLevel = EncryptionLevel.OneRtt;
        _state = State.Connected;
        IsHandshakeComplete = true;
    }

    /// <summary>Our certificate chain for mutual TLS, SslStream's order of sources; null sends an empty Certificate.</summary>
    private List<X509Certificate2>? SelectClientCertificate()
    {
        if (_authentication.ClientCertificateContext is { } context)
        {
            return CanSign(context.TargetCertificate) ? [context.TargetCertificate, .. context.IntermediateCertificates] : null;
        }

        if (_authentication.LocalCertificateSelectionCallback is { } select)
        {
            X509Certificate? chosen;
            try
            {
                chosen = select(
                    _config.CallbackSender ?? this,
                    _authentication.TargetHost ?? string.Empty,
                    _authentication.ClientCertificates ?? [],
                    PeerChain.Count > 0 ? PeerChain[0] : null,
                    []);
            }
            catch (Exception exception) when (exception is not QuicProtocolException)
            {
                throw TlsAlert.Error(TlsAlert.InternalError, $"The LocalCertificateSelectionCallback threw {exception.GetType().Name}: {exception.Message}");
            }

            return chosen is X509Certificate2 certificate && CanSign(certificate) ? [certificate] : null;
        }

        foreach (X509Certificate candidate in _authentication.ClientCertificates ?? [])
        {
            if (candidate is X509Certificate2 certificate && CanSign(certificate))
            {
                return [certificate];
            }
        }

        return null;
    }
}

using Connet.Quic.Core;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Frames;

namespace Connet.Quic.Tests.Frames;

internal delegate void WriteAction(ref SpanWriter writer);

/// <summary>Test helpers: encode into a fresh array, and a complete decode loop like the connection's.</summary>
internal static class FrameTestCodec
{
    public static byte[] Write(WriteAction write, int capacity = 2048)
    {
        var buffer = new byte[capacity];
        var writer = new SpanWriter(buffer);
        write(ref writer);
        return buffer[..writer.Position];
    }

    /// <summary>Decodes every frame of a packet payload and returns their types in order.</summary>
    public static List<FrameType> DecodeAll(ReadOnlySpan<byte> payload)
    {
        var types = new List<FrameType>();
        var reader = new SpanReader(payload);
        while (!reader.IsEmpty)
        {
            FrameType type = FrameTypes.Read(ref reader, out ulong rawType);
            DecodeBody(ref reader, type, rawType);
            types.Add(type);
        }

        return types;
    }

    public static void DecodeBody(ref SpanReader reader, FrameType type, ulong rawType)
    {
        switch (type)
        {
            case FrameType.Padding:
                PaddingFrame.Decode(ref reader);
                break;
            case FrameType.Ping:
                PingFrame.Decode(ref reader);
                break;
            case FrameType.Ack:
            case FrameType.AckEcn:
                AckFrame ack = AckFrame.Decode(ref reader, rawType);
                foreach (AckRange range in ack.GetRanges())
                {
                    Assert.True(range.Smallest <= range.Largest);
                }

                break;
            case FrameType.ResetStream:
                ResetStreamFrame.Decode(ref reader);
                break;
            case FrameType.StopSending:
                StopSendingFrame.Decode(ref reader);
                break;
            case FrameType.Crypto:
                CryptoFrame.Decode(ref reader);
                break;
            case FrameType.NewToken:
                NewTokenFrame.Decode(ref reader);
                break;
            case FrameType.Stream:
                StreamFrame.Decode(ref reader, rawType);
                break;
            case FrameType.MaxData:
                MaxDataFrame.Decode(ref reader);
                break;
            case FrameType.MaxStreamData:
                MaxStreamDataFrame.Decode(ref reader);
                break;
            case FrameType.MaxStreamsBidi:
            case FrameType.MaxStreamsUni:
                MaxStreamsFrame.Decode(ref reader, rawType);
                break;
            case FrameType.DataBlocked:
                DataBlockedFrame.Decode(ref reader);
                break;
            case FrameType.StreamDataBlocked:
                StreamDataBlockedFrame.Decode(ref reader);
                break;
            case FrameType.StreamsBlockedBidi:
            case FrameType.StreamsBlockedUni:
                StreamsBlockedFrame.Decode(ref reader, rawType);
                break;
            case FrameType.NewConnectionId:
                NewConnectionIdFrame.Decode(ref reader);
                break;
            case FrameType.RetireConnectionId:
                RetireConnectionIdFrame.Decode(ref reader);
                break;
            case FrameType.PathChallenge:
                PathChallengeFrame.Decode(ref reader);
                break;
            case FrameType.PathResponse:
                PathResponseFrame.Decode(ref reader);
                break;
            case FrameType.ConnectionCloseTransport:
            case FrameType.ConnectionCloseApplication:
                ConnectionCloseFrame.Decode(ref reader, rawType);
                break;
            case FrameType.HandshakeDone:
                HandshakeDoneFrame.Decode(ref reader);
                break;
            default:
                throw new InvalidOperationException($"FrameTypes.Read returned {type}");
        }
    }

    public static QuicProtocolException DecodeFails(byte[] payload) =>
        Assert.Throws<QuicProtocolException>(() => DecodeAll(payload));
}

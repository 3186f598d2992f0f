using Connet.Quic.Core;
using Connet.Quic.Core.Coding;
using Connet.Quic.Core.Frames;

namespace Connet.Quic.Tests.Frames;

public class FrameFuzzTests
{
    [Fact]
    public void Random_buffers_only_ever_raise_protocol_errors()
    {
        var random = new Random(20261125);
        int decodedFrames = 0;
        int rejected = 0;
        for (int i = 0; i < 20_000; i++)
        {
            var buffer = new byte[random.Next(0, 80)];
            random.NextBytes(buffer);

            // Steer most buffers to a real frame type so the decoders behind the type byte get exercised.
            if (buffer.Length > 0 && random.Next(4) != 0)
            {
                buffer[0] = (byte)random.Next(0x00, 0x20);
            }

            if (TryDecode(buffer, ref decodedFrames))
            {
                continue;
            }

            rejected++;
        }

        // Both outcomes must occur, or the loop is not testing what it claims to.
        Assert.True(decodedFrames > 1000, $"only {decodedFrames} frames decoded");
        Assert.True(rejected > 1000, $"only {rejected} buffers rejected");
    }

    [Fact]
    public void Mutated_valid_frames_only_ever_raise_protocol_errors()
    {
        byte[] packet = FrameTestCodec.Write((ref SpanWriter w) =>
        {
            AckFrame.Encode(ref w, [new(90, 100), new(10, 20)], 25, new EcnCounts(1, 2, 3));
            CryptoFrame.Encode(ref w, 100, [1, 2, 3, 4]);
            new NewConnectionIdFrame(3, 1, new ConnectionId([1, 2, 3, 4]), new StatelessResetToken(new byte[16])).Encode(ref w);
            ConnectionCloseFrame.Encode(ref w, false, 10, 6, "oops"u8, 100);
            new MaxStreamsFrame(true, 10).Encode(ref w);
            StreamFrame.Encode(ref w, 4, 64, [5, 6, 7], true, false);
        });
        Assert.Equal(6, FrameTestCodec.DecodeAll(packet).Count);

        var random = new Random(7);
        int decodedFrames = 0;
        for (int i = 0; i < 20_000; i++)
        {
            byte[] mutated = (byte[])packet.Clone();
            int flips = random.Next(1, 4);
            for (int f = 0; f < flips; f++)
            {
                mutated[random.Next(mutated.Length)] ^= (byte)(1 << random.Next(8));
            }

            TryDecode(mutated[..random.Next(mutated.Length + 1)], ref decodedFrames);
        }

        Assert.True(decodedFrames > 0);
    }

    private static bool TryDecode(byte[] buffer, ref int decodedFrames)
    {
        try
        {
            decodedFrames += FrameTestCodec.DecodeAll(buffer).Count;
            return true;
        }
        catch (QuicProtocolException ex)
        {
            Assert.True(ex.Code is TransportErrorCode.FrameEncodingError or TransportErrorCode.ProtocolViolation, ex.Message);
            return false;
        }
    }
}

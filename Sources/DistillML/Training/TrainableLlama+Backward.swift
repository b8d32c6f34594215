import COpenBLAS
import Foundation

extension TrainableLlama {
    /// Backward pass of the last training `forward`: reads d(loss)/d(logits) from the buffer `forward` returned and
    /// adds d(loss)/d(parameters) to `gradients` (llm.c `gpt2_backward`, a flat loop over the layers in reverse).
    public func backward() throws { try backward(headDone: false) }

    /// `headDone`: the head's backward already ran chunk by chunk (the fused cross-entropy path), leaving dheadIn.
    func backward(headDone: Bool) throws {
        guard let (rows, training) = pendingBackward, training, let a = activations else {
            throw DistillMLError(file: "<trainer>", "backward() needs a training forward pass first (forward(…, training: true))")
        }
        pendingBackward = nil
        let c = config, B = a.B, T = a.T, N = a.N, M = rows.count
        let C = c.dim, H = c.hiddenDim, qDim = c.qDim, kvDim = c.kvDim
        let p = base
        let stream = dropoutStream &- 1
        if !headDone {
            let dlogits = a.fullLogits()
            timed(.head) {
                for lo in stride(from: 0, to: M, by: a.headRows) {
                    headBackward(dlogits + lo * c.vocabSize, a, rows: lo..<min(M, lo + a.headRows))
                }
            }
        }
        timed(.backwardOther) {
            a.dln.update(repeating: 0, count: N * C)
            for (m, n) in rows.enumerated() { (a.dln + n * C).update(from: a.dheadIn + m * C, count: C) }
            a.dres.update(repeating: 0, count: N * C)
            Kernels.rmsnormBackward(dinp: a.dres, dweight: grad(.finalNorm), dout: a.dln, inp: a.resid(c.layers),
                                    weight: p.view(.finalNorm), rstd: a.rstdf, N: N, C: C)
        }
        ropeCos.withUnsafeBufferPointer { cosT in
            ropeSin.withUnsafeBufferPointer { sinT in
                for l in stride(from: c.layers - 1, through: 0, by: -1) {
                    // One block of activations: refill it with layer l's (layer L−1's is still there from the forward).
                    if recomputeLayers && l < c.layers - 1 { layerForward(l, a, stream, true, out: nil) }
                    // dres holds d(resid(l+1)) = d(resMid) from the skip path and d(down output).
                    timed(.backwardProjections) {
                        a.dswi.update(repeating: 0, count: N * H)
                        linearBackward(a.dswi, a.dres, a.swi(l), l, .wDown, nil, inDim: H, outDim: C, a, stream)
                    }
                    timed(.backwardOther) {
                        a.dgate.update(repeating: 0, count: N * H)
                        a.dup.update(repeating: 0, count: N * H)
                        Kernels.swigluBackward(dgate: a.dgate, dup: a.dup, dout: a.dswi, gate: a.gate(l), up: a.up(l), count: N * H)
                    }
                    timed(.backwardProjections) {
                        a.dln.update(repeating: 0, count: N * C)
                        linearBackward(a.dln, a.dgate, a.ln2(l), l, .wGate, nil, inDim: C, outDim: H, a, stream)
                        linearBackward(a.dln, a.dup, a.ln2(l), l, .wUp, nil, inDim: C, outDim: H, a, stream)
                    }
                    timed(.backwardOther) {
                        Kernels.rmsnormBackward(dinp: a.dres, dweight: grad(.ffnNorm, l), dout: a.dln, inp: a.resMid(l),
                                                weight: p.view(.ffnNorm, l), rstd: a.rstd2(l), N: N, C: C)
                    }
                    // dres now holds d(resMid) = d(resid(l)) from the skip path and d(o output).
                    timed(.backwardProjections) {
                        a.datty.update(repeating: 0, count: N * qDim)
                        linearBackward(a.datty, a.dres, a.atty(l), l, .wo, nil, inDim: qDim, outDim: C, a, stream)
                    }
                    timed(.backwardAttention) {
                        // The softmax of this layer again (its output is not needed: dq is scratch); recomputed layers have it.
                        if recomputeAttention && !recomputeLayers {
                            Kernels.causalAttentionForward(a.dq, att: a.att(l), q: a.q(l), k: a.k(l), v: a.v(l), segments: a.segments,
                                                           B: B, T: T, NH: c.heads, KVH: c.kvHeads, HD: c.headDim)
                        }
                        a.dq.update(repeating: 0, count: N * qDim)
                        a.dk.update(repeating: 0, count: N * kvDim)
                        a.dv.update(repeating: 0, count: N * kvDim)
                        Kernels.causalAttentionBackward(dq: a.dq, dk: a.dk, dv: a.dv, scratch: a.dattScratch, dout: a.datty,
                                                        att: a.att(l), q: a.q(l), k: a.k(l), v: a.v(l),
                                                        B: B, T: T, NH: c.heads, KVH: c.kvHeads, HD: c.headDim)
                        Kernels.ropeBackward(a.dq, positions: a.positions, N: N, heads: c.heads, headDim: c.headDim, rowStride: qDim,
                                             cos: cosT.baseAddress!, sin: sinT.baseAddress!)
                        Kernels.ropeBackward(a.dk, positions: a.positions, N: N, heads: c.kvHeads, headDim: c.headDim,
                                             rowStride: kvDim, cos: cosT.baseAddress!, sin: sinT.baseAddress!)
                    }
                    timed(.backwardProjections) {
                        a.dln.update(repeating: 0, count: N * C)
                        linearBackward(a.dln, a.dq, a.ln1(l), l, .wq, .bq, inDim: C, outDim: qDim, a, stream)
                        linearBackward(a.dln, a.dk, a.ln1(l), l, .wk, .bk, inDim: C, outDim: kvDim, a, stream)
                        linearBackward(a.dln, a.dv, a.ln1(l), l, .wv, .bv, inDim: C, outDim: kvDim, a, stream)
                    }
                    timed(.backwardOther) {
                        Kernels.rmsnormBackward(dinp: a.dres, dweight: grad(.attnNorm, l), dout: a.dln, inp: a.resid(l),
                                                weight: p.view(.attnNorm, l), rstd: a.rstd1(l), N: N, C: C)
                    }
                }
            }
        }
        if let dwte = grad(.tokenEmbedding) {
            timed(.backwardOther) { Kernels.embeddingBackward(dwte, dout: a.dres, tokens: a.tokens, N: N, C: C) }
        }
    }

    /// Backward of `headForward` for head rows `rows`, given their dlogits (R,V):
    ///   dheadIn[rows] (R,C) = dlogits · Whead;   dWhead (V,C) += dlogitsᵀ · headIn[rows]  (tied: the embedding's gradient)
    func headBackward(_ dlogits: UnsafeMutablePointer<Float>, _ a: TrainingActivations, rows: Range<Int>) {
        let C = config.dim
        let dinp = a.dheadIn + rows.lowerBound * C
        dinp.update(repeating: 0, count: rows.count * C)
        Kernels.matmulBackward(dinp: dinp, dweight: grad(.output) ?? grad(.tokenEmbedding), dbias: nil, dout: dlogits,
                               inp: a.headIn + rows.lowerBound * C, weight: base.head, N: rows.count, C: C, OC: config.vocabSize)
    }

    /// Backward of `linearForward`: dinp += dout · W (+ LoRA's path), weight and bias gradients in full mode, A and B
    /// gradients in LoRA mode (dropout masks regenerated from the pass's stream).
    func linearBackward(_ dinp: UnsafeMutablePointer<Float>, _ dout: UnsafeMutablePointer<Float>, _ inp: UnsafeMutablePointer<Float>,
                        _ l: Int, _ kind: LlamaParameters.Kind, _ bias: LlamaParameters.Kind?, inDim: Int, outDim: Int,
                        _ a: TrainingActivations, _ stream: UInt64) {
        let N = a.N
        if let m = frozen?.matrix(kind, layer: l) {
            m.accumulateInputGradient(dinp, dout, N: N)  // frozen (LoRA mode): no weight or bias gradient
        } else {
            Kernels.matmulBackward(dinp: dinp, dweight: grad(kind, l), dbias: bias.flatMap { grad($0, l) }, dout: dout, inp: inp,
                                   weight: base.view(kind, l), N: N, C: inDim, OC: outDim)
        }
        guard let s = loraSlot(l, kind), let cfg = lora else { return }
        let slot = loraSlots[s]
        let dropout = cfg.dropout > 0
        let u = loraInput(inp, slot: s, width: inDim, a, stream, true)
        let w = parameters.baseAddress!, g = gradients.baseAddress!
        Kernels.loraBackward(dinp: dinp, dropout: dropout, dinpScratch: a.dropGrad, da: g + slot.a, db: g + slot.b, dh: a.loraDh,
                             dout: dout, h: a.loraH(s), u: u, a: w + slot.a, b: w + slot.b, scale: cfg.scale,
                             N: N, C: inDim, OC: outDim, r: cfg.rank)
        if dropout {
            for i in 0..<(N * inDim) { dinp[i] += a.dropGrad[i] * a.dropMask[i] }
        }
    }
}

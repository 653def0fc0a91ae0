package secrets

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"

	"github.com/prescale/prescale/pkg/chainauth"
)

// ChainKey is the secret prescale's chain signs its messages with
// (pkg/chainauth): load-probe, predictor and scaler list it in stack.yml.
const ChainKey = chainauth.SecretName

// EnsureChainKey creates the secret prescale-chain-key with a random key
// (32 bytes from crypto/rand, hex) when the store has none, and reports
// whether it did. An existing one is kept as it is — also a rotated,
// two-line one — but must parse (chainauth.ParseKeys).
func EnsureChainKey(store *Store) (created bool, err error) {
	if store.Exists(ChainKey) {
		v, err := ReadTrimmed(filepath.Join(store.Dir(), ChainKey))
		if err != nil {
			return false, fmt.Errorf("read secret %s: %w", ChainKey, err)
		}
		if _, err := chainauth.ParseKeys(v); err != nil {
			return false, fmt.Errorf("secret %s (in %s): %w", ChainKey, store.Dir(), err)
		}
		return false, nil
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return false, fmt.Errorf("generate %s: %w", ChainKey, err)
	}
	if err := store.Create(ChainKey, []byte(hex.EncodeToString(b)+"\n")); err != nil {
		return false, err
	}
	return true, nil
}
